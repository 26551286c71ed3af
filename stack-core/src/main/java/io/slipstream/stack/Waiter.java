package io.slipstream.stack;

import io.slipstream.concurrent.VarHandles;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.locks.LockSupport;

/**
 * One thread's place in a {@link WaitQueue}. A thread keeps one Waiter and reuses it for every
 * wait (the stack caches one per thread), so blocking allocates nothing in steady state. The
 * {@code woken} flag, set exactly once per {@link #arm()}, tells a real wakeup from a spurious
 * return of {@link LockSupport#park}.
 */
public final class Waiter {
    private static final VarHandle WOKEN = VarHandles.field(MethodHandles.lookup(), "woken", boolean.class);

    final Thread thread;
    @SuppressWarnings("unused") // accessed through WOKEN
    private volatile boolean woken;
    // Links and membership: guarded by the queue's guard.
    Waiter prev;
    Waiter next;
    WaitQueue queue;

    public Waiter() {
        this.thread = Thread.currentThread();
    }

    /** Prepares for a new wait: not woken. Called by the waiting thread before it enqueues. */
    public void arm() {
        woken = false;
    }

    public boolean woken() {
        return woken;
    }

    /** Marks it woken and unparks its thread; true if this call did it (the first since arm). */
    boolean wake() {
        if (WOKEN.compareAndSet(this, false, true)) {
            LockSupport.unpark(thread);
            return true;
        }
        return false;
    }
}
