package io.slipstream.stack;

import io.slipstream.nic.Interrupt;
import java.lang.invoke.VarHandle;
import java.util.concurrent.locks.LockSupport;

/**
 * The stack's interrupt thread (one daemon platform thread per stack, DESIGN §4). It plays
 * the part of onload's interrupt service routine and of its stall watchdog:
 *
 * <ul>
 *   <li>While the interrupt is enabled it blocks in {@link Interrupt#await} with a timeout
 *       that ends at the armed NIC timer (an earlier deadline armed meanwhile wakes it). When
 *       the interrupt fires, {@link StackRuntime#serviceInterrupt()} tryLocks and processes.
 *   <li>While it is not, it sleeps one watchdog period at a time and rescues the stack when
 *       events have waited unpolled longer than the stall interval (capped by the overflow
 *       interval, so the rx ring cannot fill).
 *   <li>Moderation (intel-cooperated-interrupt-moderation): while application threads are
 *       active it runs at most once per latency interval; they will mostly poll themselves.
 *   <li>On a NIC that shares the host's interface, a change of the host's tables wakes it from
 *       either wait to run a pass, in which the stack looks at them (neighbours it waits for).
 * </ul>
 *
 * A platform thread on purpose: it must run even when every carrier thread is busy.
 */
final class InterruptThread implements Runnable {
    private final StackRuntime runtime;
    private final String nicName;
    private final Interrupt interrupt;
    private final RuntimeConfig config;
    private final long watchdogNanos;
    private volatile Thread thread;
    private volatile boolean stopped;
    /** Stack-clock time the current wait ends; an earlier NIC timer deadline must wake it. */
    private volatile long waitUntilNanos = Long.MAX_VALUE;
    private volatile boolean awaitingInterrupt;
    /** The host's tables changed and a pass should look: set by the host's thread, cleared by this one. */
    private volatile boolean hostChangePending;
    /** {@link System#nanoTime()} of this thread's last pass over the stack; its own thread only. */
    private long lastPassNanos = Long.MIN_VALUE / 2;

    InterruptThread(StackRuntime runtime, String nicName) {
        this.runtime = runtime;
        this.nicName = nicName;
        this.interrupt = runtime.interrupt();
        this.config = runtime.config();
        this.watchdogNanos = Math.max(1_000, config.rescueNanos() / 2);
    }

    void start() {
        thread = Thread.ofPlatform().daemon().name("slipstream-interrupt-" + nicName).start(this);
    }

    /** Stops the thread and waits (bounded) for it to leave the stack. */
    void stop() {
        stopped = true;
        Thread t = thread;
        if (t == null || t == Thread.currentThread()) {
            return;
        }
        LockSupport.unpark(t);
        interrupt.wake();
        try {
            t.join(5_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** The interrupt was just enabled: leave the watchdog sleep and wait on the interrupt. */
    void interruptEnabled() {
        Thread t = thread;
        if (t != null) {
            LockSupport.unpark(t);
        }
    }

    /**
     * The host's control plane changed (called on its thread): leave whatever wait this thread
     * is in and run a pass, whose look at the host's tables happens under the stack lock.
     */
    void hostChanged() {
        hostChangePending = true;
        Thread t = thread;
        if (t != null) {
            LockSupport.unpark(t);
        }
        interrupt.wake();
    }

    /** The NIC timer was armed at {@code deadline}: wake the wait if it would end later. */
    void timerArmed(long deadline) {
        // Dekker with step(): either it sees the new deadline, or we see it waiting.
        VarHandle.fullFence();
        if (awaitingInterrupt) {
            long until = waitUntilNanos;
            if (until == Long.MAX_VALUE || deadline - until < 0) {
                interrupt.wake();
            }
        }
    }

    @Override
    public void run() {
        while (!stopped && !runtime.isClosed()) {
            try {
                step();
            } catch (InterruptedException e) {
                // Only stop() has reason to interrupt us; the loop condition decides.
            } catch (RuntimeException e) {
                runtime.internalError(e);
            }
        }
    }

    /** One wait, then at most one pass over the stack. */
    void step() throws InterruptedException {
        long now = System.nanoTime();
        if (runtime.applicationActive(now)) {
            long earliest = lastPassNanos + config.latencyNanos();
            if (earliest - now > 0) {
                LockSupport.parkNanos(this, earliest - now);
                return;
            }
        }
        boolean fired = false;
        if (runtime.interruptsEnabled()) {
            // Announce the wait before reading the deadline, so a deadline armed from now on
            // either is read here or wakes the wait (timerArmed).
            waitUntilNanos = Long.MAX_VALUE;
            awaitingInterrupt = true;
            try {
                VarHandle.fullFence();
                long wait = Math.min(watchdogNanos, runtime.nicTimerRemainingNanos());
                waitUntilNanos = runtime.clock().nanoTime() + wait;
                fired = wait == 0 || interrupt.await(wait);
            } finally {
                awaitingInterrupt = false;
            }
            // A driver may leave a due timer to us: with threads waiting, that is an interrupt too.
            fired |= runtime.interruptsEnabled() && runtime.nicTimerRemainingNanos() == 0;
        } else {
            // Interrupt off: a due timer is an event like any other, for the stall watchdog.
            LockSupport.parkNanos(this, watchdogNanos);
        }
        if (stopped) {
            return;
        }
        boolean hostChange = hostChangePending;
        if (hostChange) {
            hostChangePending = false; // before the pass: a change after this wakes us again
        }
        if (fired) {
            runtime.serviceInterrupt();
            lastPassNanos = System.nanoTime();
        } else if (hostChange) {
            runtime.serviceHostChange();
            lastPassNanos = System.nanoTime();
        } else if (System.nanoTime() - runtime.lastPollNanos() >= config.rescueNanos() && runtime.rescueIfStalled()) {
            lastPassNanos = System.nanoTime();
        }
    }
}
