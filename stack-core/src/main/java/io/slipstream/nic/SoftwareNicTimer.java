package io.slipstream.nic;

import io.slipstream.concurrent.VarHandles;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * A {@link NicTimer} for drivers without a hardware timer: the deadline is one word in memory,
 * written by the stack and checked by the driver whenever its event queue is polled or its
 * interrupt waits. {@link #expire} turns a passed deadline into exactly one TIMER event.
 */
public final class SoftwareNicTimer implements NicTimer {
    private static final VarHandle DEADLINE = VarHandles.field(MethodHandles.lookup(), "deadline", long.class);

    @SuppressWarnings("unused") // accessed through DEADLINE
    private long deadline = DISARMED;

    @Override
    public void arm(long deadlineNanos) {
        DEADLINE.setRelease(this, deadlineNanos);
    }

    @Override
    public void disarm() {
        DEADLINE.setRelease(this, DISARMED);
    }

    @Override
    public long deadline() {
        return (long) DEADLINE.getAcquire(this);
    }

    /** True exactly once per arming, when {@code nowNanos} has reached the deadline. */
    public boolean expire(long nowNanos) {
        long d = deadline();
        return d != DISARMED && nowNanos - d >= 0 && DEADLINE.compareAndSet(this, d, DISARMED);
    }

    /** Nanoseconds from {@code nowNanos} until the deadline: 0 if passed, MAX_VALUE if disarmed. */
    public long remaining(long nowNanos) {
        long d = deadline();
        if (d == DISARMED) {
            return Long.MAX_VALUE;
        }
        return Math.max(0, d - nowNanos);
    }
}
