package io.slipstream.nic;

/**
 * The NIC's interrupt, as a user-level thread sees it: once enabled, the next event (or one
 * already waiting) fires it, which unblocks {@link #await} and queues one WAKEUP event. Firing
 * disables it again; it stays off until the next {@link #enable()}.
 */
public interface Interrupt {
    /** Arms the interrupt. Idempotent. */
    void enable();

    boolean isEnabled();

    /**
     * Blocks until the interrupt fires, {@link #wake()} is called, or {@code timeoutNanos}
     * passes (0 or less: do not wait). Returns true if it fired.
     */
    boolean await(long timeoutNanos) throws InterruptedException;

    /** Unblocks a thread in {@link #await} without firing (shutdown, reconfiguration). */
    void wake();

    /**
     * The descriptors that poll(2) and epoll report readable (POLLIN) while frames wait for the
     * stack: the ones {@link #await} watches while enabled. A thread that waits on other
     * descriptors too (a selector holding kernel channels beside the stack's) adds them to its
     * own epoll set, so that a frame wakes it directly. Empty when the NIC has no such
     * descriptor (the in-memory NIC). A fresh array each call; the descriptors stay the
     * driver's, closed with the NIC.
     */
    default int[] descriptors() {
        return new int[0];
    }
}
