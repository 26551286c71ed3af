package io.slipstream.tcp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.slipstream.wire.TcpOptions;
import org.junit.jupiter.api.Test;

/** D-SACK recognition (RFC 2883 §4) and the undo bookkeeping (RFC 3708), each rule on its own. */
class CongestionUndoTest {
    @Test
    void rfc3708_undoOnceEveryRetransmittedByteIsReportedDuplicate() {
        CongestionUndo u = new CongestionUndo();
        u.begin(20_000, 1_000_000);
        u.retransmitted(1000);
        u.retransmitted(500);
        assertFalse(u.duplicateReported(1000), "one retransmission of two was needless: the loss was real");
        assertTrue(u.duplicateReported(500), "both were: the reduction was needless");
        assertEquals(20_000, u.priorCwndBytes());
        assertEquals(1_000_000, u.priorSsthreshBytes());
        u.undone();
        assertFalse(u.armed());
        assertFalse(u.duplicateReported(500), "nothing left to undo");
    }

    @Test
    void rfc3708_aNewEpisodeStartsTheCountAgain() {
        CongestionUndo u = new CongestionUndo();
        u.begin(20_000, 1_000_000);
        u.retransmitted(1000);
        u.begin(14_000, 14_000);
        u.retransmitted(700);
        assertTrue(u.duplicateReported(700));
        assertEquals(14_000, u.priorCwndBytes(), "the window before the latest reduction");
    }

    @Test
    void undoRestoresAtLeastThePriorWindowAndSsthresh() {
        NewReno cc = new NewReno(1000);
        long before = cc.cwnd();
        cc.onTimeout(before, 1000, 0);
        assertEquals(1000, cc.cwnd());
        cc.undo(before, Long.MAX_VALUE / 4);
        assertEquals(before, cc.cwnd());
        assertEquals(Long.MAX_VALUE / 4, cc.ssthresh(), "back in slow start, as before the timeout");
    }

    private static TcpOptions blocks(int... edges) {
        TcpOptions o = new TcpOptions();
        for (int i = 0; i < edges.length; i += 2) {
            o.addSackBlock(edges[i], edges[i + 1]);
        }
        return o;
    }

    @Test
    void rfc2883_aFirstBlockBelowTheAckIsADsack() {
        assertTrue(TcpInput.dsack(blocks(1000, 1500), 2000));
        assertTrue(TcpInput.dsack(blocks(1000, 2000), 2000), "ending at the ACK");
    }

    @Test
    void rfc2883_aFirstBlockInsideTheSecondIsADsack() {
        assertTrue(TcpInput.dsack(blocks(3000, 3500, 2500, 4000), 2000));
    }

    @Test
    void rfc2883_ordinarySackBlocksAreNot() {
        assertFalse(TcpInput.dsack(blocks(3000, 3500), 2000));
        assertFalse(TcpInput.dsack(blocks(3000, 3500, 5000, 6000), 2000));
        assertFalse(TcpInput.dsack(new TcpOptions(), 2000));
    }
}
