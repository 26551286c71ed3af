package io.slipstream.stack;

import io.slipstream.concurrent.VarHandles;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.locks.LockSupport;

/**
 * The stack lock: whoever holds it may process the stack and operate its sockets.
 *
 * <p>One atomic word carries {@link #LOCKED}, {@link #CONTENDED} and the deferred-work bits.
 * Fast paths use {@link #tryLockOrDefer}: a thread that finds the lock busy records what it
 * wanted done (for example {@link #POLL_NEEDED}) in the same atomic step and leaves; the
 * holder runs every recorded piece of work (through the {@link DeferredWork} handler) before
 * its release can succeed, so nothing recorded is ever lost. Slow paths use {@link #lock()}:
 * spin briefly, then set CONTENDED and park. A release that sees CONTENDED unparks one waiter.
 *
 * <p>Reentrant: the owner may take it again (the stack's own entry points such as
 * {@link Stack#poll()} take it, and callers holding it may call them). Deferred work runs only
 * at the outermost release. Waiting uses {@link LockSupport#park} only, never a monitor, so a
 * virtual thread waiting for the lock unmounts instead of pinning its carrier. Taking and
 * releasing an uncontended lock allocates nothing.
 */
public final class StackLock {
    public static final int LOCKED = 1;
    /** Some thread is parked (or about to park) waiting for the lock: it will poll when it gets it. */
    public static final int CONTENDED = 1 << 1;
    /** Bring the stack up to date (poll the event queue) before releasing. */
    public static final int POLL_NEEDED = 1 << 2;
    /** Frames wait for transmission (tx backlog, doorbell): push them before releasing. */
    public static final int TX_PENDING = 1 << 3;
    /**
     * Blocked threads went to sleep counting on the holder: after polling, wake those whose
     * condition now holds, and decide whether the interrupt must be enabled for the rest.
     */
    public static final int WAKE_NEEDED = 1 << 4;
    public static final int DEFERRED = POLL_NEEDED | TX_PENDING | WAKE_NEEDED;

    /** Runs deferred work under the lock; {@code bits} is a subset of {@link #DEFERRED}. */
    @FunctionalInterface
    public interface DeferredWork {
        void run(int bits);
    }

    private static final VarHandle WORD = VarHandles.field(MethodHandles.lookup(), "word", int.class);
    private static final int SPINS_BEFORE_PARK = 128;

    @SuppressWarnings("unused") // accessed through WORD
    private volatile int word;
    /** The holder; written only by the thread that just took the lock, read to detect reentry. */
    private volatile Thread owner;
    /** Reentrant holds by {@link #owner}; touched only by the owner. */
    private int holds;
    /** Acquisitions from free, counted by each new holder: tells one hold from the next. */
    private long acquisitions;
    private final WaitQueue waiters = new WaitQueue(null);
    private final ThreadLocal<Waiter> lockWaiter = ThreadLocal.withInitial(Waiter::new);
    private volatile DeferredWork deferredWork = bits -> { };

    /** Sets the handler that runs deferred work (the stack does, once, at start). */
    public void deferredWork(DeferredWork handler) {
        this.deferredWork = handler;
    }

    /** Takes the lock if it is free or already ours; never waits. */
    public boolean tryLock() {
        return tryLockOrDefer(0);
    }

    /**
     * Takes the lock if it is free or already ours; otherwise records {@code deferredBits} for
     * the holder in the same atomic step and returns false. The holder will run that work
     * before it releases (or, if it is releasing right now, the lock becomes free and a retry
     * here takes it instead: either way the work is done).
     */
    public boolean tryLockOrDefer(int deferredBits) {
        Thread me = Thread.currentThread();
        if (owner == me) {
            holds++;
            return true;
        }
        for (;;) {
            int w = word;
            if ((w & LOCKED) == 0) {
                if (WORD.compareAndSet(this, w, w | LOCKED)) {
                    owner = me;
                    holds = 1;
                    acquisitions++;
                    return true;
                }
            } else if ((w & deferredBits) == deferredBits
                    || WORD.compareAndSet(this, w, w | deferredBits)) {
                return false;
            }
        }
    }

    /** Takes the lock, waiting if needed: spins briefly, then marks it CONTENDED and parks. */
    public void lock() {
        for (int i = 0; i < SPINS_BEFORE_PARK; i++) {
            if (tryLock()) {
                return;
            }
            Thread.onSpinWait();
        }
        Waiter me = lockWaiter.get();
        for (;;) {
            me.arm();
            waiters.add(me);
            if (tryLock() || !markContended()) {
                // Got it, or it became free: retry without parking.
                waiters.remove(me);
                if (isHeldByCurrentThread()) {
                    passContention();
                    return;
                }
                continue;
            }
            while (!me.woken()) {
                LockSupport.park(this);
            }
            waiters.remove(me);
            if (tryLock()) {
                passContention();
                return;
            }
        }
    }

    /** Sets CONTENDED while the lock is held; false if it is free (the caller retries). */
    private boolean markContended() {
        for (;;) {
            int w = word;
            if ((w & LOCKED) == 0) {
                return false;
            }
            if ((w & CONTENDED) != 0 || WORD.compareAndSet(this, w, w | CONTENDED)) {
                return true;
            }
        }
    }

    /** A waiter that got the lock keeps CONTENDED set while others still wait, so they get woken. */
    private void passContention() {
        if (!waiters.isEmpty()) {
            for (;;) {
                int w = word;
                if ((w & CONTENDED) != 0 || WORD.compareAndSet(this, w, w | CONTENDED)) {
                    return;
                }
            }
        }
    }

    /**
     * Releases one hold. At the outermost release, first runs every piece of deferred work
     * recorded in the word (looping: work recorded while it runs is run too), then frees the
     * lock and wakes one parked waiter if the lock was contended.
     */
    public void unlock() {
        Thread me = Thread.currentThread();
        if (owner != me) {
            throw new IllegalMonitorStateException("the stack lock is not held by " + me);
        }
        if (holds > 1) {
            holds--;
            return;
        }
        for (;;) {
            int w = word;
            int bits = w & DEFERRED;
            if (bits != 0) {
                if (WORD.compareAndSet(this, w, w & ~DEFERRED)) {
                    deferredWork.run(bits);
                }
                continue;
            }
            owner = null;
            holds = 0;
            if (WORD.compareAndSet(this, w, w & ~(LOCKED | CONTENDED))) {
                if ((w & CONTENDED) != 0) {
                    waiters.wakeOne();
                }
                return;
            }
            owner = me; // work was recorded meanwhile: still ours, run it
            holds = 1;
        }
    }

    /** How many times the lock was acquired from free; meaningful to its holder only. */
    long acquisitions() {
        return acquisitions;
    }

    public boolean isHeldByCurrentThread() {
        return owner == Thread.currentThread();
    }

    public boolean isLocked() {
        return (word & LOCKED) != 0;
    }

    /** Whether a thread waits for the lock (it will process the stack once it has it). */
    public boolean isContended() {
        return (word & CONTENDED) != 0;
    }

    /** The deferred-work bits currently recorded (for tests and the stack dump). */
    public int deferredBits() {
        return word & DEFERRED;
    }

    @Override
    public String toString() {
        int w = word;
        return "StackLock[" + ((w & LOCKED) != 0 ? "locked by " + owner : "free")
                + ((w & CONTENDED) != 0 ? ", contended" : "")
                + ((w & DEFERRED) != 0 ? ", deferred=0x" + Integer.toHexString(w & DEFERRED) : "") + "]";
    }
}
