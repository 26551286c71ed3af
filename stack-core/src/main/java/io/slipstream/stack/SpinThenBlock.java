package io.slipstream.stack;

/**
 * The runtime's idle strategy ({@code slipstream.poll.usec}): busy-polls for a spin time, and
 * past it for as long as the looks find work (polling mode), then blocks. A spin time of 0
 * blocks at once, -1 spins forever.
 */
final class SpinThenBlock implements IdleStrategy {
    private final long spinNanos;
    /** When the current wait's spin time ends ({@link System#nanoTime()}). */
    private long spinEndNanos;

    SpinThenBlock(long spinNanos) {
        this.spinNanos = spinNanos;
    }

    @Override
    public boolean reset(long nowNanos) {
        spinEndNanos = nowNanos + spinNanos;
        return spinNanos != 0;
    }

    @Override
    public boolean idle(int workCount, long nowNanos) {
        if (spinNanos >= 0 && nowNanos - spinEndNanos >= 0 && workCount == 0) {
            return false;
        }
        Thread.onSpinWait();
        return true;
    }

    @Override
    public boolean timed() {
        return spinNanos > 0;
    }
}
