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
}
