package io.slipstream.stack;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The runtime's idle strategy, on times the test chooses (it never reads the clock itself). */
class SpinThenBlockTest {

    @Test
    void spinsUntilTheSpinTimeEndsThenBlocks() {
        SpinThenBlock idle = new SpinThenBlock(1_000);
        assertTrue(idle.timed());
        assertTrue(idle.reset(5_000));
        assertTrue(idle.idle(0, 5_999));
        assertFalse(idle.idle(0, 6_000));
        assertTrue(idle.reset(10_000), "a new wait spins again");
        assertTrue(idle.idle(0, 10_500));
    }

    @Test
    void pastTheSpinTimeWorkKeepsItSpinning() {
        SpinThenBlock idle = new SpinThenBlock(1_000);
        idle.reset(0);
        assertTrue(idle.idle(3, 2_000), "the look handled events (polling mode)");
        assertTrue(idle.idle(-1, 2_000), "the lock was busy: its holder is working");
        assertFalse(idle.idle(0, 2_000));
    }

    @Test
    void zeroBlocksAtOnceAndMinusOneSpinsForeverWithoutTheClock() {
        assertFalse(new SpinThenBlock(0).reset(0));
        SpinThenBlock forever = new SpinThenBlock(-1);
        assertFalse(forever.timed());
        assertTrue(forever.reset(0));
        assertTrue(forever.idle(0, Long.MAX_VALUE));
    }
}
