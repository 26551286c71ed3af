package io.slipstream.stack;

/** What the stack runtime counts: who polls, interrupt decisions, hand-offs and rescues. */
public enum RuntimeCounter {
    /** Poll passes run by application threads (socket operations, blocking waits, the poll hook). */
    APP_POLLS,
    /** Poll passes run by the interrupt thread (after an interrupt, as a stall rescue, or for a change of the host's tables). */
    INTERRUPT_POLLS,
    /** Poll passes run by a lock holder on behalf of a thread that found the lock busy. */
    DEFERRED_POLLS,
    /** Interrupts enabled by a blocking thread or a lock holder (the decision said "enable"). */
    INTERRUPTS_ENABLED,
    /** Interrupts re-enabled by the interrupt thread because threads still waited. */
    INTERRUPTS_REENABLED,
    /** Rule 1 (interrupt or NIC watch): the lock was held or contended, so its holder or a contender will poll. */
    INTERRUPT_SUPPRESSED_LOCK_BUSY,
    /** Rule 2 (interrupt or NIC watch): the interrupt was already enabled. */
    INTERRUPT_SUPPRESSED_ALREADY_ENABLED,
    /** Rule 3 (interrupt or NIC watch): the last poll woke blocked threads, which will poll when they run. */
    INTERRUPT_SUPPRESSED_THREADS_WOKEN,
    /**
     * A thread about to sleep on the NIC's descriptors itself (a selector holding kernel channels
     * beside the stack's, {@link Stack#watchNic()}) was told to watch them: the rules found
     * nobody else would poll. Rule suppressions count in the three counters above.
     */
    NIC_WATCHES,
    /** Such a thread woke because the NIC's descriptors were readable, and polled the stack itself. */
    NIC_WATCH_WAKEUPS,
    /** The interrupt fired (or its wait ended with the NIC timer due) and the interrupt thread ran. */
    INTERRUPT_WAKEUPS,
    /** The interrupt thread could not take the lock and left the work (an interrupt's, a host change's) to the holder. */
    INTERRUPT_HANDOFFS,
    /** The interrupt thread processed a stack whose events waited unpolled too long. */
    STALL_RESCUES,
    /** The poll hook (select) skipped updating the stack because the interrupt was enabled. */
    POLL_HOOK_SKIPS,
    /** A lock release ran deferred work recorded by other threads. */
    DEFERRED_WORK_RUNS,
    /** Threads woken from a wait queue by whoever processed the stack. */
    THREADS_WOKEN,
    /** Blocking waits that parked (after spinning found nothing). */
    PARKS,
    /** Switches into polling mode because the packet rate passed {@code slipstream.poll.rate}. */
    POLLING_MODE_ENTERED,
    /** The control plane of the host whose interface the NIC shares reported a change (the stack was woken). */
    HOST_CHANGES,
    /** Passes that looked at the host's tables after such changes (one look may cover several). */
    HOST_CHANGE_LOOKS
}
