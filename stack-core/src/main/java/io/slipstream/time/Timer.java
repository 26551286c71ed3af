package io.slipstream.time;

/**
 * One re-armable timer, owned by whoever created it (a TCP connection keeps one per kind:
 * retransmit, delayed ACK, keepalive...). Created once and rescheduled forever, so arming a
 * timer allocates nothing. Scheduled through {@link Timers}.
 */
public final class Timer {
    /** What runs when a timer expires. */
    @FunctionalInterface
    public interface Target {
        void onTimer(Timer timer, long nowNanos);
    }

    final Target target;
    long deadline;
    int heapIndex = -1;

    public Timer(Target target) {
        this.target = target;
    }

    public boolean isScheduled() {
        return heapIndex >= 0;
    }

    /** The deadline when scheduled; meaningless otherwise. */
    public long deadline() {
        return deadline;
    }
}
