package io.slipstream.nic;

/**
 * A one-shot timer on the NIC. Arming is a memory write (no system call, no OS timer per
 * socket); once the clock passes the deadline the driver delivers one TIMER event and the
 * timer disarms. Re-arming replaces the deadline.
 */
public interface NicTimer {
    long DISARMED = Long.MAX_VALUE;

    void arm(long deadlineNanos);

    void disarm();

    /** The armed deadline, or {@link #DISARMED}. */
    long deadline();
}
