package io.slipstream.shim.kernel;

import java.net.SocketTimeoutException;

/**
 * The time limit of a blocking call (SO_TIMEOUT and the socket views' connect timeout):
 * {@code timeoutNanos} 0 means no limit. The call takes its deadline once, then asks before
 * each wait how long it may still wait.
 */
public final class Timeouts {
    private Timeouts() {}

    /** The {@link System#nanoTime()} at which a call limited to {@code timeoutNanos} gives up (0: no limit). */
    public static long deadlineNanos(long timeoutNanos) {
        return timeoutNanos > 0 ? System.nanoTime() + timeoutNanos : 0;
    }

    /**
     * How long the call may wait now: 0 (no limit) without a timeout, else the time to the
     * deadline, or SocketTimeoutException with {@code timedOut} (the JDK's message) once it passed.
     */
    public static long waitNanos(long timeoutNanos, long deadlineNanos, String timedOut) throws SocketTimeoutException {
        if (timeoutNanos <= 0) {
            return 0;
        }
        long waitNanos = deadlineNanos - System.nanoTime();
        if (waitNanos <= 0) {
            throw new SocketTimeoutException(timedOut);
        }
        return waitNanos;
    }
}
