package io.slipstream.tcp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.slipstream.wire.TcpOptions;
import org.junit.jupiter.api.Test;

/** {@link SackScoreboard} on its own: RFC 6675's IsLost, SetPipe and NextSeg over RFC 2018 blocks. */
class SackScoreboardTest {
    private static final int MSS = 1000;
    private static final int UNA = 10_000;

    private static SackScoreboard board(int... blocks) {
        SackScoreboard b = new SackScoreboard(32);
        b.reset(UNA);
        TcpOptions o = new TcpOptions();
        for (int i = 0; i < blocks.length; i += 2) {
            o.addSackBlock(blocks[i], blocks[i + 1]);
        }
        b.update(o, UNA, UNA + 20 * MSS);
        return b;
    }

    @Test
    void rfc2018_blocksOutsideTheOutstandingDataAreIgnored() {
        SackScoreboard b = board(UNA - 2 * MSS, UNA - MSS, UNA + 30 * MSS, UNA + 31 * MSS);
        assertEquals(UNA, b.highestSacked(UNA), "below SND.UNA or past SND.MAX: not scored");
    }

    @Test
    void rfc6675_isLostAfterDupThreshSackedAbove() {
        int max = UNA + 20 * MSS;
        assertFalse(board(UNA + MSS, UNA + 3 * MSS).isLost(UNA, max, MSS),
                "(DupThresh − 1)·SMSS SACKed above is not yet a loss");
        assertTrue(board(UNA + MSS, UNA + 3 * MSS + 1).isLost(UNA, max, MSS),
                "more than (DupThresh − 1)·SMSS SACKed above: SND.UNA is lost");
        assertTrue(board(UNA + MSS, UNA + 2 * MSS, UNA + 4 * MSS, UNA + 6 * MSS).isLost(UNA, max, MSS),
                "discontiguous SACKed bytes count together");
    }

    @Test
    void rfc6675_pipeCountsUnsackedBytesAboveTheHighestSackAndRetransmittedHoles() {
        int max = UNA + 10 * MSS;
        SackScoreboard b = board(UNA + 2 * MSS, UNA + 4 * MSS);
        assertEquals(6L * MSS, b.pipe(UNA, max), "holes below the highest SACK are presumed lost");
        b.retransmitted(UNA + MSS);
        assertEquals(7L * MSS, b.pipe(UNA, max), "a retransmitted hole is in flight again");
    }

    @Test
    void rfc6675_nextSegResendsHolesInOrderFromHighRxt() {
        SackScoreboard b = board(UNA + MSS, UNA + 2 * MSS, UNA + 3 * MSS, UNA + 4 * MSS);
        int high = b.highestSacked(UNA);
        assertEquals(UNA + 4 * MSS, high);
        int hole = b.nextHole(UNA);
        assertEquals(UNA, hole, "rule 1: the first unSACKed byte");
        assertEquals(UNA + MSS, b.holeEnd(hole, high), "the hole ends where the SACKed block starts");
        b.retransmitted(UNA + MSS);
        assertEquals(UNA + 2 * MSS, b.nextHole(UNA), "after HighRxt, SACKed blocks skipped");
        b.retransmitted(UNA + 3 * MSS);
        assertEquals(high, b.nextHole(UNA), "no hole left below the highest SACK");
    }

    @Test
    void rfc6675_cumulativeAckDropsScoredBytesAndLiftsHighRxt() {
        SackScoreboard b = board(UNA + MSS, UNA + 2 * MSS);
        b.cumulativeAck(UNA + 2 * MSS);
        assertEquals(UNA + 2 * MSS, b.highestSacked(UNA + 2 * MSS));
        assertEquals(UNA + 2 * MSS, b.nextHole(UNA + 2 * MSS));
    }

    @Test
    void rfc6675_timeoutForgetsTheScoreboard() {
        SackScoreboard b = board(UNA + MSS, UNA + 5 * MSS);
        b.reset(UNA);
        assertFalse(b.isLost(UNA, UNA + 20 * MSS, MSS), "§5.1: after an RTO, rely on cumulative ACKs");
        assertEquals(UNA, b.highestSacked(UNA));
    }
}
