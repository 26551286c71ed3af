package io.slipstream.tcp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** RACK's rules (RFC 8985 §6) on the records alone, each on its own. */
class RackTest {
    private static final int UNA = 1_000;
    private static final int MSS = 100;
    private static final long MS = 1_000_000L;

    /** Segments 0..n-1 of MSS bytes from UNA, sent 1 ms apart from t = 0. */
    private static Rack sent(int n) {
        Rack r = new Rack(64);
        r.reset(UNA);
        for (int i = 0; i < n; i++) {
            r.sentNew(seg(i), seg(i + 1), i * MS);
        }
        return r;
    }

    private static int seg(int i) {
        return UNA + i * MSS;
    }

    @Test
    void rfc8985_segmentSentBeforeADeliveredOneIsLostAfterRttPlusReoWnd() {
        Rack r = sent(4);
        r.sacked(seg(1), seg(2), 11 * MS); // segment 1 sent at 1 ms, delivered at 11: RACK.rtt = 10 ms
        assertEquals(10 * MS, r.rttNs());
        long reoWnd = r.reoWndNs(false, 10 * MS);
        assertEquals(10 * MS / 4, reoWnd, "no reordering seen, one SACKed: reo_wnd = min_RTT / 4");
        long wait = r.detectLoss(11 * MS, reoWnd);
        assertEquals(0, r.lostBytes(), "segment 0 left 11 ms ago, not yet 10 + 2.5");
        assertEquals(MS + MS / 2, wait, "the reordering timer runs out when it would be lost");
        r.detectLoss(12 * MS + MS / 2, reoWnd);
        assertEquals(MSS, r.lostBytes(), "segment 0 is lost; 2 and 3 left after segment 1, never");
        assertEquals(0, r.firstLost());
    }

    @Test
    void rfc8985_reoWndIsZeroOnceDupThreshSegmentsAreSackedWithoutReordering() {
        Rack r = sent(5);
        for (int i = 1; i <= 3; i++) {
            r.sacked(seg(i), seg(i + 1), 20 * MS);
        }
        assertEquals(0, r.reoWndNs(false, 10 * MS));
        r.detectLoss(20 * MS, 0);
        assertEquals(MSS, r.lostBytes(), "segment 0 at once");
    }

    @Test
    void rfc8985_reorderingSeenKeepsAReoWndEvenInRecovery() {
        Rack r = sent(4);
        r.sacked(seg(2), seg(3), 12 * MS);
        r.cumulativeAck(seg(2), 12 * MS); // 0 and 1 delivered below RACK.fack, never retransmitted
        assertTrue(r.reorderingSeen());
        assertEquals(10 * MS / 4, r.reoWndNs(true, 10 * MS));
        assertEquals(r.reoWndNs(true, 1 * MS), 1 * MS, "at most SRTT");
    }

    @Test
    void rfc8985_lostRetransmissionIsDetectedWithoutAnRto() {
        Rack r = sent(4);
        r.sacked(seg(1), seg(4), 20 * MS);
        r.detectLoss(20 * MS, 0);
        assertEquals(0, r.firstLost());
        r.retransmitted(seg(0), seg(1), 20 * MS);
        assertEquals(0, r.lostBytes(), "resent: in flight again");
        r.sentNew(seg(4), seg(5), 21 * MS);
        r.sacked(seg(4), seg(5), 40 * MS); // sent after the retransmission, delivered
        r.detectLoss(40 * MS, 0);
        assertEquals(MSS, r.lostBytes(), "the retransmission is lost too");
        assertTrue(r.lost(0) && r.retransmitted(0));
    }

    @Test
    void rfc8985_ackSoonerThanMinRttAfterARetransmissionIsTheOriginalsAndNotTimed() {
        Rack r = sent(3);
        r.sacked(seg(2), seg(3), 12 * MS); // min_RTT 10 ms
        r.retransmitted(seg(0), seg(1), 13 * MS);
        r.cumulativeAck(seg(1), 14 * MS); // 1 ms after the retransmission: the original's ACK
        assertEquals(10 * MS, r.rttNs(), "no sample from the ambiguous delivery");
        assertEquals(10 * MS, r.minRttNs());
    }

    @Test
    void rfc8985_nothingIsLostWithoutSacksOrRetransmissions() {
        Rack r = sent(3);
        r.cumulativeAck(seg(1), 50 * MS);
        assertEquals(0, r.detectLoss(500 * MS, 0), "what is outstanding left after what was delivered");
        assertEquals(0, r.lostBytes());
        assertEquals(2, r.count());
        assertEquals(seg(1), r.start(0));
    }

    @Test
    void rfc8985_rtoMarksTheFirstAndThoseSentLongerThanRttAgo() {
        Rack r = sent(4);
        r.sacked(seg(1), seg(2), 10 * MS); // RACK.rtt 9 ms
        r.markLostOnTimeout(10 * MS + MS / 2, 0, false);
        assertTrue(r.lost(0), "the first: sent an RTO ago");
        assertFalse(r.lost(2), "segment 2 left 8.5 ms ago, less than RACK.rtt: not yet");
        assertFalse(r.sacked(0));
        r.markLostOnTimeout(11 * MS, 0, true);
        assertTrue(r.lost(2) && r.lost(3));
        assertFalse(r.lost(1), "SACKed stays SACKed");
        assertEquals(3L * MSS, r.lostBytes());
    }

    @Test
    void partialRetransmissionSplitsTheRecord() {
        Rack r = new Rack(8);
        r.reset(UNA);
        r.sentNew(UNA, UNA + 300, 0);
        r.markLostOnTimeout(MS, 0, true);
        assertEquals(300, r.lostBytes());
        r.retransmitted(UNA, UNA + 100, 2 * MS);
        assertEquals(2, r.count());
        assertEquals(200, r.lostBytes(), "the rest stays lost, to be resent");
        assertEquals(1, r.firstLost());
        assertEquals(UNA + 100, r.start(1));
    }

    @Test
    void fullRingCoarsensTheNewestRecord() {
        Rack r = new Rack(2);
        r.reset(UNA);
        for (int i = 0; i < 4; i++) {
            r.sentNew(seg(i), seg(i + 1), i * MS);
        }
        assertEquals(2, r.count());
        assertEquals(seg(4), r.end(1), "the last record took the later segments");
        r.cumulativeAck(seg(4), 10 * MS);
        assertEquals(0, r.count());
    }

    @Test
    void rfc8985_dsackWidensReoWndUntilSixteenRecoveriesPass() {
        Rack r = sent(2);
        r.sacked(seg(1), seg(2), 8 * MS); // min_RTT 7 ms
        r.dsackReceived();
        assertTrue(r.reorderingSeen());
        assertEquals(2 * (7 * MS / 4), r.reoWndNs(false, 100 * MS));
        for (int i = 0; i < 15; i++) {
            r.recoveryEnded();
        }
        assertEquals(2 * (7 * MS / 4), r.reoWndNs(false, 100 * MS));
        r.recoveryEnded();
        assertEquals(7 * MS / 4, r.reoWndNs(false, 100 * MS));
    }

    /** {@code n} segments sent, all deemed lost by an RTO at 100 ms, F-RTO watching them. */
    private static Rack timedOut(int n) {
        Rack r = sent(n);
        r.markLostOnTimeout(100 * MS, 0, true);
        r.watchOriginals(seg(n));
        return r;
    }

    @Test
    void rfc5682_aNeverRetransmittedSegmentDeliveredAfterATimeoutShowsItSpurious() {
        Rack r = timedOut(4);
        r.retransmitted(seg(0), seg(1), 100 * MS);
        r.cumulativeAck(seg(1), 110 * MS);
        assertFalse(r.takeOriginalDelivered(), "only the retransmission was acknowledged");
        r.cumulativeAck(seg(3), 111 * MS);
        assertTrue(r.takeOriginalDelivered(), "segments 1 and 2 went once and arrived: not all was lost");
        r.clearLost();
        assertEquals(0, r.lostBytes());
        assertEquals(-1, r.firstLost(), "segment 3 is in flight again, not lost");
    }

    @Test
    void rfc5682_segmentsSentAfterTheTimeoutDoNotCount() {
        Rack r = timedOut(2);
        r.retransmitted(seg(0), seg(2), 100 * MS);
        r.sentNew(seg(2), seg(3), 101 * MS);
        r.sacked(seg(2), seg(3), 111 * MS);
        assertFalse(r.takeOriginalDelivered());
    }
}
