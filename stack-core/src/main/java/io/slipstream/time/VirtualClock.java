package io.slipstream.time;

import java.util.concurrent.atomic.AtomicLong;

/** A clock that moves only when told to. Starts at an arbitrary non-zero instant. */
public final class VirtualClock implements Clock {
    private final AtomicLong now;

    public VirtualClock() {
        this(1_000_000_000L);
    }

    public VirtualClock(long startNanos) {
        this.now = new AtomicLong(startNanos);
    }

    @Override
    public long nanoTime() {
        return now.get();
    }

    public void advance(long nanos) {
        if (nanos < 0) {
            throw new IllegalArgumentException("time does not go backwards: " + nanos);
        }
        now.addAndGet(nanos);
    }

    public void advanceMillis(long millis) {
        advance(millis * 1_000_000L);
    }

    /** Moves to {@code nanos} if that is later than now. */
    public void advanceTo(long nanos) {
        now.accumulateAndGet(nanos, Math::max);
    }
}
