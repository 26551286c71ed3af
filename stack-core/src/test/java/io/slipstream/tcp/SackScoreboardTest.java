package io.slipstream.tcp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.slipstream.wire.TcpOptions;
import org.junit.jupiter.api.Test;

/** {@link SackScoreboard} on its own: RFC 6675's IsLost over RFC 2018 blocks, and walking them. */
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
        assertFalse(b.isLost(UNA, UNA + 40 * MSS, 0), "below SND.UNA or past SND.MAX: not scored");
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
    void rfc2018_holesAndSackedBlocksAreWalkedInOrder() {
        SackScoreboard b = board(UNA + MSS, UNA + 2 * MSS, UNA + 3 * MSS, UNA + 4 * MSS);
        assertEquals(UNA + MSS, b.holeEnd(UNA, UNA + 20 * MSS), "the hole ends where the SACKed block starts");
        assertEquals(UNA + 2 * MSS, b.skipSacked(UNA + MSS), "a SACKed block is skipped whole");
        assertEquals(UNA, b.skipSacked(UNA), "a hole is not");
    }

    @Test
    void rfc6675_cumulativeAckDropsScoredBytes() {
        SackScoreboard b = board(UNA + MSS, UNA + 2 * MSS, UNA + 3 * MSS, UNA + 5 * MSS);
        assertTrue(b.isLost(UNA, UNA + 20 * MSS, MSS));
        b.cumulativeAck(UNA + 2 * MSS);
        assertEquals(UNA + 3 * MSS, b.holeEnd(UNA + 2 * MSS, UNA + 20 * MSS));
        assertFalse(b.isLost(UNA + 2 * MSS, UNA + 20 * MSS, MSS), "what was SACKed below SND.UNA no longer counts");
    }

    @Test
    void rfc6675_timeoutForgetsTheScoreboard() {
        SackScoreboard b = board(UNA + MSS, UNA + 5 * MSS);
        b.reset(UNA);
        assertFalse(b.isLost(UNA, UNA + 20 * MSS, MSS), "§5.1: after an RTO, rely on cumulative ACKs");
        assertEquals(UNA + MSS, b.skipSacked(UNA + MSS));
    }
}
