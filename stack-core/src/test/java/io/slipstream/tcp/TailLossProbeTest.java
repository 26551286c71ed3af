package io.slipstream.tcp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The tail loss probe's rules (RFC 8985 §7), each on its own. */
class TailLossProbeTest {
    private static final long MS = 1_000_000L;

    @Test
    void rfc8985_ptoIsTwoSrttAndLinuxsMargin() {
        assertEquals(22 * MS, TailLossProbe.ptoNs(10 * MS, false, 1_000 * MS));
        assertEquals(2 * MS + 100_000, TailLossProbe.ptoNs(50_000, false, 1_000 * MS), "a 50 µs path still waits 2 ms more");
    }

    @Test
    void rfc8985_ptoWaitsForADelayedAckOfALoneSegment() {
        assertEquals(20 * MS + TailLossProbe.WORST_CASE_DELAYED_ACK_NS, TailLossProbe.ptoNs(10 * MS, true, 1_000 * MS));
    }

    @Test
    void rfc8985_ptoIsOneSecondWithoutAnRttAndNeverAfterTheRto() {
        assertEquals(TailLossProbe.INITIAL_PTO_NS, TailLossProbe.ptoNs(0, false, 5_000 * MS));
        assertEquals(15 * MS, TailLossProbe.ptoNs(10 * MS, false, 15 * MS));
    }

    @Test
    void rfc8985_retransmittedProbeAckedWithoutDsackRepairedALoss() {
        TailLossProbe t = new TailLossProbe();
        t.sent(5_000, true);
        assertTrue(t.outstanding());
        assertFalse(t.acked(4_000, false), "not yet up to TLP.end_seq");
        assertTrue(t.acked(5_000, false));
        assertFalse(t.outstanding());
    }

    @Test
    void rfc8985_dsackForTheProbeMeansNothingWasLost() {
        TailLossProbe t = new TailLossProbe();
        t.sent(5_000, true);
        assertFalse(t.acked(5_000, true));
        assertFalse(t.outstanding());
    }

    @Test
    void rfc8985_probeOfNewDataEndsAtTheNextAck() {
        TailLossProbe t = new TailLossProbe();
        t.sent(5_000, false);
        assertFalse(t.acked(4_000, false));
        assertFalse(t.outstanding(), "RACK sees any loss of new data by itself");
    }
}
