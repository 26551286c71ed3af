package io.slipstream.stack;

import io.slipstream.nic.Interrupt;
import io.slipstream.nic.NicTimer;
import io.slipstream.nic.VirtualInterface;
import io.slipstream.stats.Counters;
import io.slipstream.time.Timers;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * The stack's runtime (DESIGN §4): who processes the stack and when. The poll pass; entry and
 * exit of socket operations; work deferred to the lock's holder; blocking waits, with "how to
 * wait" left to an {@link IdleStrategy} and the interrupt-enable rules ({@link #decideInterrupt})
 * kept here, each counted; the interrupt service routine and the stall rescue the
 * {@link InterruptThread} runs; the adaptive switch to polling mode.
 */
final class StackRuntime {
    /** A thread blocked with no timeout still looks at the stack's closed flag this often. */
    private static final long CLOSE_CHECK_NANOS = 250_000_000L;
    /** Window over which the packet rate is measured for the adaptive mode. */
    private static final long RATE_WINDOW_NANOS = 1_000_000L;

    private final RuntimeConfig config;
    private final RuntimeCounters counters = new RuntimeCounters();
    private final Counters<StackCounter> stackCounters;
    private final StackLock lock;
    private final PassClock clock;
    private final VirtualInterface nic;
    private final LinkLevel link;
    private final Timers timers;
    /** What a pass does about a change of the host's control plane (IP's look at it); under the lock. */
    private final Runnable hostChange;
    /** The host's control plane changed since the last pass looked: set by its thread, cleared by a pass. */
    private final AtomicBoolean hostChangePending = new AtomicBoolean();
    /** Each thread's own waiter and idle strategy, reused by every wait: waiting allocates nothing. */
    private final ThreadLocal<WaitingThread> waitingThreads;
    /** Threads parked in {@link #await} (or about to park): the interrupt is only for them. */
    private final AtomicInteger blocked = new AtomicInteger();
    /** onload's flag: the interrupt is armed (or fired and not yet serviced), so the stack is up to date. */
    private volatile boolean interruptsEnabled;
    /** Rule 3: the last poll pass woke blocked threads. Written under the lock, read by anyone. */
    private volatile boolean lastPollWoke;
    /** Threads woken during the current pass; guarded by the stack lock. */
    private int wokenThisPass;
    /** {@link System#nanoTime()} of the last pass's start; written under the lock, read by the interrupt thread. */
    private volatile long lastPollNanos = System.nanoTime();
    /** The same, of the last pass by an application thread (interrupt moderation). */
    private volatile long lastAppPollNanos = System.nanoTime();
    // The packet-rate window; guarded by the stack lock.
    private long rateWindowStartNanos = System.nanoTime();
    private long rateWindowEvents;
    /** Written under the lock, read by waiting threads without it. */
    private volatile boolean pollingMode;
    private volatile boolean closed;
    /**
     * Set once at start; null when the settings turn it off. Volatile: the host's control-plane
     * thread reads it to wake it.
     */
    private volatile InterruptThread interruptThread;

    StackRuntime(RuntimeConfig config, Counters<StackCounter> stackCounters, StackLock lock, PassClock clock,
                 VirtualInterface nic, LinkLevel link, Timers timers, Runnable hostChange) {
        this.config = config;
        this.stackCounters = stackCounters;
        this.lock = lock;
        this.clock = clock;
        this.nic = nic;
        this.link = link;
        this.timers = timers;
        this.hostChange = hostChange;
        long spinNanos = config.spinNanos();
        this.waitingThreads = ThreadLocal.withInitial(() -> new WaitingThread(new SpinThenBlock(spinNanos)));
    }

    /** One thread's reusable waiting state (created in that thread: the waiter names it). */
    private static final class WaitingThread {
        final Waiter waiter = new Waiter();
        final IdleStrategy idle;

        WaitingThread(IdleStrategy idle) {
            this.idle = idle;
        }
    }

    RuntimeConfig config() {
        return config;
    }

    RuntimeCounters counters() {
        return counters;
    }

    PassClock clock() {
        return clock;
    }

    /** Starts the interrupt thread if the settings want one; once, at the stack's start. */
    void startInterruptThread() {
        if (config.interruptThread()) {
            interruptThread = new InterruptThread(this, nic.name());
            interruptThread.start();
        }
    }

    void stopInterruptThread() {
        InterruptThread t = interruptThread;
        if (t != null) {
            t.stop();
        }
    }

    /** The stack is closing (under the lock): no more processing, no interrupt. */
    void close() {
        closed = true;
        interruptsEnabled = false;
    }

    boolean isClosed() {
        return closed;
    }

    void internalError(RuntimeException e) {
        link.internalError(e);
    }

    // ---------------------------------------------------------------- the poll pass

    /** A poll pass by an application thread (under the lock). */
    int appPoll(int budget) {
        counters.incrementLocked(RuntimeCounter.APP_POLLS); // written under the lock only
        int work = pollLocked(budget);
        lastAppPollNanos = lastPollNanos; // the pass's own reading
        return work;
    }

    /**
     * Processes up to {@code budget} NIC events and the loopback queue, expires due timers,
     * refills the rx ring, rings the doorbell once and re-arms the NIC timer. Under the lock.
     * Returns the events and timers handled: 0 means the stack was idle.
     */
    private int pollLocked(int budget) {
        if (closed) {
            return 0;
        }
        stackCounters.increment(StackCounter.POLLS);
        // The pass's one reading of the time: the runtime's (stall watch, packet rate) and, on
        // the system clock, the protocol layers' too.
        long systemNow = System.nanoTime();
        long now = clock.refresh(systemNow);
        link.batchDoorbell(true);
        wokenThisPass = 0;
        int work;
        int nicEvents;
        try {
            nicEvents = link.pollEvents(budget);
            work = nicEvents + link.drainLoopback();
            if (timers.nextDeadline() - now <= 0) {
                work += timers.expire();
            }
            if (hostChangePending.get() && hostChangePending.getAndSet(false)) {
                counters.increment(RuntimeCounter.HOST_CHANGE_LOOKS);
                hostChange.run();
                work++;
            }
            link.refillRx();
        } finally {
            link.batchDoorbell(false);
        }
        link.flush();
        armNicTimer();
        lastPollWoke = wokenThisPass > 0;
        lastPollNanos = systemNow;
        measureRate(nicEvents, systemNow);
        return work;
    }

    /**
     * Adaptive mode (sun-poll-interrupt-switching): above {@code slipstream.poll.rate} packets
     * per second, blocked threads keep polling instead of parking on the interrupt; once the
     * rate falls they go back to interrupt mode as soon as a poll finds the rings empty.
     */
    private void measureRate(int nicEvents, long nowNanos) {
        rateWindowEvents += nicEvents;
        long elapsed = nowNanos - rateWindowStartNanos;
        if (elapsed >= RATE_WINDOW_NANOS) {
            boolean fast = rateWindowEvents * 1_000_000_000L / elapsed >= config.pollRate();
            if (fast && !pollingMode) {
                counters.increment(RuntimeCounter.POLLING_MODE_ENTERED);
            }
            pollingMode = fast;
            rateWindowStartNanos = nowNanos;
            rateWindowEvents = 0;
        }
    }

    boolean pollingMode() {
        return pollingMode;
    }

    /** Arms the NIC timer for the earliest protocol timer; an earlier one must wake the interrupt thread's wait. */
    private void armNicTimer() {
        long armed = link.armNicTimer();
        if (armed != Long.MAX_VALUE) {
            InterruptThread t = interruptThread;
            if (t != null) {
                t.timerArmed(armed); // it may be waiting for a later deadline
            }
        }
    }

    // ---------------------------------------------------------------- entry, exit, poll hook

    /** See {@link Stack#enter()}. */
    void enter() {
        if (lock.tryLockOrDefer(StackLock.POLL_NEEDED)) {
            appPoll(config.pollBatch());
        } else {
            lock.lock();
            clock.refresh(System.nanoTime()); // the holder polled for us; the time is ours to take
        }
        link.batchDoorbell(true); // what the operation sends leaves at exit, with one kick
    }

    /** See {@link Stack#exit()}. */
    void exit() {
        try {
            link.batchDoorbell(false);
            if (!closed) {
                if (link.hasLoopback()) {
                    link.drainLoopback(); // datagrams to ourselves arrive before anyone else looks
                }
                link.flush();
                armNicTimer();
            }
        } finally {
            lock.unlock();
        }
    }

    /** See {@link Stack#pollHook()}. */
    boolean pollHook() {
        if (interruptsEnabled) {
            counters.increment(RuntimeCounter.POLL_HOOK_SKIPS);
            return false;
        }
        if (!lock.tryLockOrDefer(StackLock.POLL_NEEDED)) {
            return false;
        }
        try {
            appPoll(config.pollBatch());
        } finally {
            lock.unlock();
        }
        return true;
    }

    /** See {@link Stack#requestFlush()}. */
    void requestFlush() {
        if (lock.tryLockOrDefer(StackLock.TX_PENDING)) {
            try {
                link.drainTxBacklog();
                link.flush();
            } finally {
                lock.unlock();
            }
        }
    }

    /**
     * The host's control plane changed; called on its own thread, which must touch no stack
     * state. Records that the next pass must look ({@link #hostChangePending}) and wakes the
     * interrupt thread to run that pass, through the lock or its holder. Without an interrupt
     * thread, the next pass an application thread runs looks, as ARP's retry timer does.
     */
    void hostChanged() {
        counters.increment(RuntimeCounter.HOST_CHANGES);
        hostChangePending.set(true);
        InterruptThread t = interruptThread;
        if (t != null) {
            t.hostChanged();
        }
    }

    /**
     * The interrupt thread's pass for a change of the host's tables: under the lock, or, when
     * the lock is busy, left to its holder, who polls before it releases.
     */
    void serviceHostChange() {
        if (!lock.tryLockOrDefer(StackLock.POLL_NEEDED)) {
            counters.increment(RuntimeCounter.INTERRUPT_HANDOFFS);
            return;
        }
        try {
            counters.increment(RuntimeCounter.INTERRUPT_POLLS);
            pollLocked(config.pollBatch());
        } finally {
            lock.unlock();
        }
    }

    /** Work recorded by threads that found the lock busy, run by the holder before it releases. */
    void runDeferred(int bits) {
        counters.increment(RuntimeCounter.DEFERRED_WORK_RUNS);
        if ((bits & StackLock.POLL_NEEDED) != 0) {
            counters.increment(RuntimeCounter.DEFERRED_POLLS);
            pollLocked(config.pollBatch());
        }
        if ((bits & StackLock.TX_PENDING) != 0) {
            link.drainTxBacklog();
            link.flush();
        }
        if ((bits & StackLock.WAKE_NEEDED) != 0 && blocked.get() > 0) {
            // A thread went to sleep counting on us: it must not sleep through the next event.
            decideInterrupt();
        }
    }

    // ---------------------------------------------------------------- blocking

    /** Called by {@link WaitQueue#wakeAll()}: feeds rule 3 and the counters. */
    void threadsWoken(int n) {
        wokenThisPass += n;
        lastPollWoke = true;
        counters.add(RuntimeCounter.THREADS_WOKEN, n);
    }

    /** See {@link Stack#await}: busy-waits as the thread's idle strategy says, then blocks. */
    int await(WaitQueue queue, WaitCondition condition, long timeoutNanos) {
        if (lock.isHeldByCurrentThread()) {
            throw new IllegalStateException("Stack.await must not be called with the stack lock held");
        }
        WaitingThread me = waitingThreads.get();
        IdleStrategy idle = me.idle;
        boolean timed = timeoutNanos >= 0;
        boolean clocked = timed || idle.timed();
        long start = clocked ? System.nanoTime() : 0;
        long deadline = start + timeoutNanos;
        Thread thread = Thread.currentThread();
        if (idle.reset(start) || timeoutNanos == 0) {
            for (;;) {
                if (closed) {
                    return Stack.CLOSED;
                }
                int work = -1;
                if (lock.tryLockOrDefer(StackLock.POLL_NEEDED)) {
                    boolean ready;
                    try {
                        work = appPoll(config.pollBatch());
                        ready = condition.ready();
                    } finally {
                        lock.unlock();
                    }
                    if (ready) {
                        return Stack.READY;
                    }
                }
                if (thread.isInterrupted()) {
                    return Stack.INTERRUPTED;
                }
                long now = clocked ? System.nanoTime() : 0; // spinning forever without a timeout needs no clock
                if (timed && now - deadline >= 0) {
                    return Stack.TIMED_OUT;
                }
                if (!idle.idle(pollingMode ? work : 0, now)) {
                    break;
                }
            }
        }
        return block(me.waiter, queue, condition, timed, deadline);
    }

    /**
     * The blocking half of {@link #await}: enqueues the thread, polls once more and applies
     * {@link #decideInterrupt()}'s rules, or, if the lock is busy, leaves the poll and the
     * decision to the holder; then parks until woken.
     */
    private int block(Waiter w, WaitQueue queue, WaitCondition condition, boolean timed, long deadline) {
        Thread me = Thread.currentThread();
        for (;;) {
            if (closed) {
                return Stack.CLOSED;
            }
            w.arm();
            queue.add(w);
            blocked.incrementAndGet();
            try {
                boolean ready;
                if (lock.tryLockOrDefer(StackLock.POLL_NEEDED | StackLock.WAKE_NEEDED)) {
                    try {
                        appPoll(config.pollBatch());
                        ready = condition.ready();
                        if (!ready) {
                            decideInterrupt();
                        }
                    } finally {
                        lock.unlock();
                    }
                } else {
                    // Rule 1 (lock held): the holder polls and decides for us before it releases.
                    counters.increment(RuntimeCounter.INTERRUPT_SUPPRESSED_LOCK_BUSY);
                    ready = condition.ready();
                }
                if (ready) {
                    return Stack.READY;
                }
                counters.increment(RuntimeCounter.PARKS);
                while (!w.woken()) {
                    if (me.isInterrupted()) {
                        return Stack.INTERRUPTED;
                    }
                    if (closed) {
                        return Stack.CLOSED;
                    }
                    long slice = CLOSE_CHECK_NANOS;
                    if (timed) {
                        long left = deadline - System.nanoTime();
                        if (left <= 0) {
                            return Stack.TIMED_OUT;
                        }
                        slice = Math.min(slice, left);
                    }
                    LockSupport.parkNanos(this, slice); // never a monitor: a virtual thread unmounts
                }
            } finally {
                queue.remove(w);
                blocked.decrementAndGet();
            }
        }
    }

    int blockedThreads() {
        return blocked.get();
    }

    /** What {@link #decideInterrupt()} decided. */
    enum InterruptDecision {
        ENABLED,
        SUPPRESSED_LOCK_BUSY,
        SUPPRESSED_ALREADY_ENABLED,
        SUPPRESSED_THREADS_WOKEN
    }

    /**
     * Whether a thread about to block must enable the interrupt, by onload's rules, in order,
     * each counted: (1) the lock is contended: a contender will poll when it gets the lock (the
     * "lock held" half of the rule is applied by callers that failed to take it); (2) the
     * interrupt is already enabled; (3) the last poll woke blocked threads, which will poll
     * when they run; otherwise enable it. Called under the lock, right after a poll.
     */
    InterruptDecision decideInterrupt() {
        InterruptDecision d = nobodyElseWillPoll();
        if (d == InterruptDecision.ENABLED) {
            counters.increment(RuntimeCounter.INTERRUPTS_ENABLED);
            enableInterrupt();
        }
        return d;
    }

    /**
     * The three rules of {@link #decideInterrupt()}, each suppression counted; ENABLED means no
     * other thread will poll, so whoever is about to sleep must be woken by the NIC. Under the lock.
     */
    private InterruptDecision nobodyElseWillPoll() {
        assert lock.isHeldByCurrentThread();
        if (lock.isContended()) {
            counters.increment(RuntimeCounter.INTERRUPT_SUPPRESSED_LOCK_BUSY);
            return InterruptDecision.SUPPRESSED_LOCK_BUSY;
        }
        if (interruptsEnabled) {
            counters.increment(RuntimeCounter.INTERRUPT_SUPPRESSED_ALREADY_ENABLED);
            return InterruptDecision.SUPPRESSED_ALREADY_ENABLED;
        }
        if (lastPollWoke) {
            counters.increment(RuntimeCounter.INTERRUPT_SUPPRESSED_THREADS_WOKEN);
            return InterruptDecision.SUPPRESSED_THREADS_WOKEN;
        }
        return InterruptDecision.ENABLED;
    }

    /**
     * See {@link Stack#watchNic()}: onload's rules, applied to a thread that waits on the NIC's
     * descriptors itself instead of enabling the interrupt for the interrupt thread. A busy
     * lock is rule 1 (its holder is processing the stack).
     */
    boolean watchNic() {
        if (closed) {
            return false;
        }
        if (!lock.tryLockOrDefer(StackLock.POLL_NEEDED)) {
            counters.increment(RuntimeCounter.INTERRUPT_SUPPRESSED_LOCK_BUSY);
            return false;
        }
        try {
            if (nobodyElseWillPoll() != InterruptDecision.ENABLED) {
                return false;
            }
            counters.increment(RuntimeCounter.NIC_WATCHES);
            return true;
        } finally {
            lock.unlock();
        }
    }

    /** See {@link Stack#serviceNicWatch()}. */
    boolean serviceNicWatch() {
        counters.increment(RuntimeCounter.NIC_WATCH_WAKEUPS);
        return pollHook();
    }

    private void enableInterrupt() {
        interruptsEnabled = true;
        nic.interrupt().enable();
        InterruptThread t = interruptThread;
        if (t != null) {
            t.interruptEnabled();
        }
    }

    boolean interruptsEnabled() {
        return interruptsEnabled;
    }

    // ---------------------------------------------------------------- interrupt service

    Interrupt interrupt() {
        return nic.interrupt();
    }

    /** Nanoseconds (stack clock) until the armed NIC timer: 0 if due, MAX_VALUE if disarmed. */
    long nicTimerRemainingNanos() {
        long d = nic.timer().deadline();
        return d == NicTimer.DISARMED ? Long.MAX_VALUE : Math.max(0, d - clock.nanoTime());
    }

    long lastPollNanos() {
        return lastPollNanos;
    }

    /** Whether application threads polled within the last latency interval (moderation). */
    boolean applicationActive(long nowNanos) {
        return nowNanos - lastAppPollNanos < config.latencyNanos();
    }

    /**
     * The interrupt service routine, run by the interrupt thread when the interrupt fired:
     * clears the enabled flag, {@code tryLock}s (on failure the holder polls and decides for
     * the waiters, {@link StackLock#POLL_NEEDED} and {@link StackLock#WAKE_NEEDED}), processes
     * the stack until idle (bounded by the rx ring), and re-enables the interrupt only if
     * threads still wait. Returns whether it processed the stack itself.
     */
    boolean serviceInterrupt() {
        counters.increment(RuntimeCounter.INTERRUPT_WAKEUPS);
        // Cleared before the hand-off, so the holder's decision does not see a stale "enabled".
        interruptsEnabled = false;
        if (!lock.tryLockOrDefer(StackLock.POLL_NEEDED | StackLock.WAKE_NEEDED)) {
            counters.increment(RuntimeCounter.INTERRUPT_HANDOFFS);
            return false;
        }
        try {
            processAsInterrupt();
        } finally {
            lock.unlock();
        }
        return true;
    }

    /**
     * The stall watchdog: if nobody holds the lock and events wait, the interrupt thread
     * processes the stack itself so ACKs and window updates keep flowing. Returns whether it did.
     */
    boolean rescueIfStalled() {
        if (!lock.tryLock()) {
            return false; // whoever holds it is processing: not stalled
        }
        try {
            if (closed || (!nic.events().hasEvents() && !link.hasLoopback())) {
                return false;
            }
            counters.increment(RuntimeCounter.STALL_RESCUES);
            processAsInterrupt();
            return true;
        } finally {
            lock.unlock();
        }
    }

    private void processAsInterrupt() {
        int limit = Math.max(1, nic.rx().capacity() / config.pollBatch()) + 1;
        int woken = 0;
        for (int i = 0; i < limit; i++) {
            counters.increment(RuntimeCounter.INTERRUPT_POLLS);
            int work = pollLocked(config.pollBatch());
            woken += wokenThisPass;
            if (work < config.pollBatch()) {
                break;
            }
        }
        // Threads just woken still count as blocked until they run; they will poll themselves.
        if (blocked.get() > woken && !interruptsEnabled && !closed) {
            counters.increment(RuntimeCounter.INTERRUPTS_REENABLED);
            enableInterrupt();
        } else if (blocked.get() <= woken) {
            interruptsEnabled = false;
        }
    }
}
