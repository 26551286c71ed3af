package io.slipstream.stack;

/**
 * How a thread that waits for the stack spends the time between its looks at it, in the manner
 * of Agrona's {@code IdleStrategy}: after each look that found nothing ready the runtime calls
 * {@link #idle}, which busy-waits once and says whether to look again or to block now.
 * Blocking itself (the interrupt rules, the wait queue, the park) stays with the runtime, which
 * parks through {@code LockSupport} only, so a waiting virtual thread never pins its carrier.
 * An instance serves one thread: it holds the state of that thread's current wait.
 */
interface IdleStrategy {
    /**
     * A new wait begins at {@code nowNanos} ({@link System#nanoTime()}, read only if
     * {@link #timed()}). Returns whether to busy-wait at all; false: block at once.
     */
    boolean reset(long nowNanos);

    /**
     * Idles once after a look at the stack that found nothing ready. Returns true to look
     * again, false when busy-waiting is over and the thread should block.
     *
     * @param workCount what the look did: events and timers handled, 0 if nothing, negative
     *     if the lock was busy (its holder is working); the runtime passes 0 while the packet
     *     rate is low, so only in polling mode does work keep a thread spinning
     * @param nowNanos {@link System#nanoTime()}, read only if {@link #timed()}
     */
    boolean idle(int workCount, long nowNanos);

    /** Whether {@link #reset} and {@link #idle} need the time: a caller spares the reading otherwise. */
    boolean timed();
}
