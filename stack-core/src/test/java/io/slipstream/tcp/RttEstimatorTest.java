package io.slipstream.tcp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** {@link RttEstimator} on its own: RFC 6298's estimator, bounds, backoff and Karn's rule. */
class RttEstimatorTest {
    @Test
    void rfc1122_retriesAreATimeAsLinuxMeasuresThem() {
        assertEquals(924_600_000_000L, RttEstimator.giveUpNs(15, 200_000_000L, 120_000_000_000L),
                "tcp_retries2 = 15 from TCP_RTO_MIN within TCP_RTO_MAX");
        assertEquals(127_000_000_000L, RttEstimator.giveUpNs(6, 1_000_000_000L, 120_000_000_000L),
                "tcp_syn_retries = 6 from one second");
        assertEquals(3_000_000_000L, RttEstimator.giveUpNs(3, 200_000_000L, 120_000_000_000L));
    }

    private static final long MS = 1_000_000L;
    private static final long MIN = 200 * MS;
    private static final long MAX = 120_000 * MS;

    private static RttEstimator estimator() {
        return new RttEstimator(1000 * MS, MIN, MAX);
    }

    @Test
    void rfc6298_initialRtoBeforeAnySample() {
        assertEquals(1000 * MS, estimator().rtoNs(), "§2.1: RTO ← 1 s until a sample");
    }

    @Test
    void rfc6298_firstSampleSetsSrttAndRttvar() {
        RttEstimator r = estimator();
        r.sample(100 * MS);
        assertEquals(100 * MS, r.srttNs(), "§2.2: SRTT ← R");
        assertEquals(50 * MS, r.rttvarNs(), "§2.2: RTTVAR ← R/2");
        assertEquals(300 * MS, r.rtoNs(), "§2.2: RTO ← SRTT + max(G, 4·RTTVAR)");
    }

    @Test
    void rfc6298_laterSamplesAreSmoothedWithAlphaAndBeta() {
        RttEstimator r = estimator();
        r.sample(100 * MS);
        r.sample(180 * MS);
        // §2.3: RTTVAR ← 3/4·50 + 1/4·|100 − 180| = 57.5; SRTT ← 7/8·100 + 1/8·180 = 110
        assertEquals(57_500_000L, r.rttvarNs());
        assertEquals(110 * MS, r.srttNs());
        assertEquals(110 * MS + 4 * 57_500_000L, r.rtoNs());
    }

    @Test
    void rfc6298_rtoIsRoundedUpToTheMinimum() {
        RttEstimator r = estimator();
        r.sample(MS);
        assertEquals(MIN, r.rtoNs(), "§2.4: RTO below the minimum is rounded up");
    }

    @Test
    void rfc6298_rtoIsBoundedByTheMaximum() {
        RttEstimator r = estimator();
        r.sample(100_000 * MS);
        assertEquals(MAX, r.rtoNs(), "§2.5: a maximum may be placed on the RTO");
    }

    @Test
    void rfc6298_backoffDoublesTheRtoPerExpiryUpToTheMaximum() {
        RttEstimator r = estimator();
        r.sample(100 * MS);
        assertEquals(300 * MS, r.backedOffNs(0));
        assertEquals(600 * MS, r.backedOffNs(1), "§5.5: RTO ← RTO · 2");
        assertEquals(1200 * MS, r.backedOffNs(2));
        assertEquals(MAX, r.backedOffNs(40), "never past the maximum");
    }

    @Test
    void rfc6298_timedSegmentGivesASampleWhenAcked() {
        RttEstimator r = estimator();
        r.startTiming(1000, 0);
        r.acked(1000, 50 * MS);
        assertTrue(r.timing(), "an ACK not covering the timed segment is no sample");
        r.acked(1001, 80 * MS);
        assertFalse(r.timing());
        assertEquals(80 * MS, r.srttNs());
    }

    @Test
    void rfc6298_karnsRuleIgnoresRetransmittedSamples() {
        RttEstimator r = estimator();
        r.startTiming(1000, 0);
        r.retransmitted(1000, 1500);
        r.acked(1500, 900 * MS);
        assertEquals(0, r.srttNs(), "§3: no sample from a retransmitted segment");
        assertEquals(1000 * MS, r.rtoNs());
    }

    @Test
    void rfc6298_karnsRuleAppliesToARetransmittedSyn() {
        RttEstimator r = estimator();
        r.synSent(0);
        r.handshakeDone(3000 * MS, 1);
        assertEquals(0, r.srttNs(), "a SYN that was resent is no sample");
        r.synSent(5000 * MS);
        r.handshakeDone(5040 * MS, 0);
        assertEquals(40 * MS, r.srttNs(), "a SYN answered first time is");
    }
}
