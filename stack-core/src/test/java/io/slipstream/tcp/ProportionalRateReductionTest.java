package io.slipstream.tcp;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** RFC 6937's rules, each on its own. */
class ProportionalRateReductionTest {
    private static final int MSS = 1000;

    @Test
    void rfc6937_sendsSsthreshOverRecoverFsOfWhatIsDelivered() {
        ProportionalRateReduction p = new ProportionalRateReduction();
        p.start(10L * MSS);
        long ssthresh = 7L * MSS;
        long sent = 0;
        for (int ack = 0; ack < 10; ack++) {
            long sndcnt = p.onAck(MSS, 9L * MSS, ssthresh, MSS); // pipe above ssthresh throughout
            p.sent(sndcnt);
            sent += sndcnt;
        }
        assertEquals(ssthresh, sent, "a whole RecoverFS delivered lets out ssthresh: the window ends at ssthresh");
    }

    @Test
    void rfc6937_proportionalShareIsRoundedUp() {
        ProportionalRateReduction p = new ProportionalRateReduction();
        p.start(10L * MSS);
        assertEquals(700, p.onAck(MSS, 9L * MSS, 7L * MSS, MSS), "CEIL(1000 · 7000 / 10000) − 0");
        assertEquals(1400, p.onAck(MSS, 9L * MSS, 7L * MSS, MSS), "nothing sent yet: the share accumulates");
    }

    @Test
    void rfc6937_belowSsthreshSlowStartsAtMostOneSegmentBeyondDelivered() {
        ProportionalRateReduction p = new ProportionalRateReduction();
        p.start(10L * MSS);
        p.sent(3L * MSS);
        // pipe fell under ssthresh (more losses): PRR-SSRB
        assertEquals(2L * MSS, p.onAck(MSS, 5L * MSS, 7L * MSS, MSS), "max(1000 − 3000, 1000) + MSS");
        assertEquals(MSS, p.onAck(4L * MSS, 6L * MSS, 7L * MSS, MSS), "never past ssthresh − pipe");
    }
}
