package io.slipstream.driver.memory;

import io.slipstream.nic.Interrupt;
import io.slipstream.nic.NicCounter;
import io.slipstream.nic.SoftwareNicTimer;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * One end's interrupt. It fires from whichever thread delivers an event to this end, or from
 * the waiter itself when the timer deadline or a frame's release time passes: a waiter's sleep
 * is capped at both, since nothing else would wake it for them. Blocks with a
 * {@link ReentrantLock} condition, so virtual threads are not pinned.
 */
final class MemoryInterrupt implements Interrupt {
    private final MemoryInterface vi;
    private final MemoryEventQueue events;
    private final SoftwareNicTimer timer;
    private final AtomicBoolean enabled = new AtomicBoolean();
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private boolean fired; // guarded by lock
    private boolean woken; // guarded by lock

    MemoryInterrupt(MemoryInterface vi, MemoryEventQueue events, SoftwareNicTimer timer) {
        this.vi = vi;
        this.events = events;
        this.timer = timer;
    }

    @Override
    public void enable() {
        if (enabled.get() || vi.isClosed()) {
            return;
        }
        lock.lock();
        try {
            fired = false; // a firing nobody awaited belongs to the previous arming
        } finally {
            lock.unlock();
        }
        enabled.set(true);
        // An event already waiting fires it at once; one arriving from now on sees the flag.
        if (events.hasEvents()) {
            fire();
        }
    }

    @Override
    public boolean isEnabled() {
        return enabled.get();
    }

    /** An event was queued for this end (under the link lock, from any thread). */
    void eventArrived() {
        if (enabled.get()) {
            fire();
        }
    }

    private void fire() {
        if (!enabled.compareAndSet(true, false)) {
            return; // someone else fired this arming
        }
        events.addWakeup();
        vi.stats().increment(NicCounter.INTERRUPTS);
        signalWaiter(true);
    }

    @Override
    public boolean await(long timeoutNanos) throws InterruptedException {
        long start = System.nanoTime();
        for (;;) {
            if (vi.isClosed()) {
                return consume(false);
            }
            // Nothing else moves frames or the timer while both stacks are idle: do it here.
            vi.link().releaseDue();
            long now = vi.clock().nanoTime();
            long timerLeft = timer.remaining(now);
            if (timerLeft == 0 && enabled.get()) {
                fire();
            }
            lock.lock();
            try {
                if (fired || woken) {
                    return consume(fired);
                }
                long left = timeoutNanos - (System.nanoTime() - start);
                if (left <= 0) {
                    return false;
                }
                long wait = left;
                if (timerLeft > 0 && timerLeft < wait) {
                    wait = timerLeft;
                }
                long releaseLeft = vi.link().nanosUntilNextRelease();
                if (releaseLeft < wait) {
                    wait = Math.max(1, releaseLeft);
                }
                changed.awaitNanos(wait);
            } finally {
                lock.unlock();
            }
        }
    }

    /** Clears fired/woken and returns {@code result}. */
    private boolean consume(boolean result) {
        lock.lock();
        try {
            fired = false;
            woken = false;
            return result;
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void wake() {
        signalWaiter(false);
    }

    /** Tells the waiter why it may return, a firing ({@code fired}) or a wake, and wakes it. */
    private void signalWaiter(boolean firing) {
        lock.lock();
        try {
            if (firing) {
                fired = true;
            } else {
                woken = true;
            }
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }
}
