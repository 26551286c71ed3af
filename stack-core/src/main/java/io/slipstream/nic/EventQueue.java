package io.slipstream.nic;

/** The per-interface queue through which the NIC reports rx, tx-complete, timer and wakeup events. */
public interface EventQueue {
    /** Delivers up to {@code limit} events to {@code handler}; returns how many. Never blocks. */
    int poll(EventHandler handler, int limit);

    /**
     * Whether an event is waiting (a frame, a completion, an expired timer). Cheap enough to
     * call on every poll-hook check; may be conservative (true when unsure).
     */
    boolean hasEvents();
}
