package io.slipstream.stack;

import io.slipstream.time.Clock;

/**
 * The stack's clock as its protocol code sees it: read once per pass of the stack lock's
 * holder, then served from that reading for the rest of the pass. TCP alone asks for the time
 * several times per segment (RTT sample, timestamps, receive age, timers), and on a virtual
 * machine each reading costs tens of nanoseconds: on a 64-byte round trip that was about half
 * of the stack's own work. Linux caches its TCP clock per event the same way ({@code tcp_mstamp}).
 *
 * <p>A cached reading is served only to the thread holding the stack lock, and only within the
 * same acquisition of the lock that took it ({@link #refresh}); any other caller, and the holder
 * of an acquisition that never refreshed, reads the source clock. So a thread outside the
 * stack never sees a stale time, and inside the stack the time is at most one operation old.
 */
final class PassClock implements Clock {
    private final Clock source;
    private final boolean system;
    private final StackLock lock;
    // Written and read by the lock holder only.
    private long cached;
    private long cachedAcquisition = -1;

    PassClock(Clock source, StackLock lock) {
        this.source = source;
        this.system = source == Clock.SYSTEM;
        this.lock = lock;
    }

    /**
     * Starts a pass: takes a reading for the rest of this acquisition of the lock, which the
     * caller holds, and returns it. {@code systemNanos} is the caller's {@link System#nanoTime()}
     * reading, reused when the source is the system clock so a pass reads the time once.
     */
    long refresh(long systemNanos) {
        long now = system ? systemNanos : source.nanoTime();
        cached = now;
        cachedAcquisition = lock.acquisitions();
        return now;
    }

    @Override
    public long nanoTime() {
        if (lock.isHeldByCurrentThread() && cachedAcquisition == lock.acquisitions()) {
            return cached;
        }
        return source.nanoTime();
    }
}
