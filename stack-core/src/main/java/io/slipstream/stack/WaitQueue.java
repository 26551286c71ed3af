package io.slipstream.stack;

import io.slipstream.concurrent.VarHandles;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * Threads blocked until something changes: one queue per socket (readable, writable,
 * acceptable) and per selector. Whoever processes the stack calls {@link #wakeAll()} when a
 * readiness changes; waiters enqueue themselves, check their condition, then park.
 *
 * <p>No wakeup is lost: a waiter enqueues before it checks its condition, and a waker changes
 * the condition before it walks the queue; both pass through the queue's guard, so either the
 * waiter sees the new condition or the waker sees the waiter. The guard is a CAS flag held for
 * a few instructions only (linking a node, unparking threads), never across a park, so it
 * pins nothing. The list is intrusive: nothing is allocated per wait.
 */
public final class WaitQueue {
    private static final VarHandle GUARD = VarHandles.field(MethodHandles.lookup(), "guard", int.class);

    private final StackRuntime runtime;
    @SuppressWarnings("unused") // accessed through GUARD
    private volatile int guard;
    // Guarded by the guard.
    private Waiter head;
    private Waiter tail;
    /** Written under the guard; read without it, so a wakeAll with nobody to wake stays off the guard. */
    private volatile int size;

    /** @param runtime the runtime whose "last poll woke threads" record this queue's wakeups feed, or null */
    WaitQueue(StackRuntime runtime) {
        this.runtime = runtime;
    }

    private void acquire() {
        while (!GUARD.compareAndSet(this, 0, 1)) {
            Thread.onSpinWait();
        }
    }

    private void release() {
        GUARD.setVolatile(this, 0);
    }

    /** Appends {@code w} (armed by its thread); a no-op if it is already queued here. */
    public void add(Waiter w) {
        acquire();
        try {
            if (w.queue == this) {
                return;
            }
            if (w.queue != null) {
                throw new IllegalStateException("a waiter waits on one queue at a time");
            }
            w.queue = this;
            w.prev = tail;
            w.next = null;
            if (tail == null) {
                head = w;
            } else {
                tail.next = w;
            }
            tail = w;
            size++;
        } finally {
            release();
        }
        // Dekker with wakeAll: our enqueue is visible before we read the waited-for condition.
        VarHandle.fullFence();
    }

    /** Removes {@code w} if it is queued here. */
    public void remove(Waiter w) {
        acquire();
        try {
            unlink(w);
        } finally {
            release();
        }
    }

    private void unlink(Waiter w) {
        if (w.queue != this) {
            return;
        }
        if (w.prev == null) {
            head = w.next;
        } else {
            w.prev.next = w.next;
        }
        if (w.next == null) {
            tail = w.prev;
        } else {
            w.next.prev = w.prev;
        }
        w.prev = null;
        w.next = null;
        w.queue = null;
        size--;
    }

    /** Wakes every waiter (each re-checks its condition); returns how many were woken. */
    public int wakeAll() {
        // Dekker with add: the condition the caller just changed is visible before we read size.
        VarHandle.fullFence();
        if (size == 0) {
            return 0; // nobody to wake: stay off the guard on the hot path
        }
        int n = 0;
        acquire();
        try {
            for (Waiter w = head; w != null; w = w.next) {
                if (w.wake()) {
                    n++;
                }
            }
        } finally {
            release();
        }
        if (n > 0 && runtime != null) {
            runtime.threadsWoken(n);
        }
        return n;
    }

    /** Removes and wakes the oldest waiter; false if there is none. */
    boolean wakeOne() {
        acquire();
        try {
            Waiter w = head;
            if (w == null) {
                return false;
            }
            unlink(w);
            w.wake();
            return true;
        } finally {
            release();
        }
    }

    public boolean isEmpty() {
        return size == 0;
    }

    public int size() {
        return size;
    }
}
