package io.slipstream.shim;

import io.slipstream.nic.NicException;
import io.slipstream.shim.kernel.KernelFd;
import io.slipstream.stack.Stack;
import io.slipstream.stack.WaitCondition;
import io.slipstream.stack.WaitQueue;
import java.net.BindException;
import java.net.SocketException;

/**
 * What the accelerated backends share: the stack they run on, the queue their blocked callers
 * wait in, and the readiness hand-off to the channel's selectors. Subclasses operate their
 * socket between {@link Stack#enter()} and {@link Stack#exit()}; the methods they run under
 * the stack lock assert that it is held ({@link #locked()}).
 */
abstract class OnStack implements Backend {
    final Stack stack;
    /** The channel's keys: told when the socket becomes ready. */
    private final SelectionKeys keys;
    /** Callers blocked in {@link Stack#await} on this socket. */
    final WaitQueue queue;
    /** Set by close before the socket goes, so that every wait condition holds and waiters leave. */
    volatile boolean closed;

    OnStack(Stack stack, SelectionKeys keys) {
        this.stack = stack;
        this.keys = keys;
        this.queue = stack.newWaitQueue();
    }

    @Override
    public final KernelFd kernelFd() {
        return null;
    }

    @Override
    public final SelectionKeys keys() {
        return keys;
    }

    @Override
    public final Stack stack() {
        return stack;
    }

    /** The socket's readiness changed (run by whichever thread processes the stack). */
    void readinessChanged() {
        queue.wakeAll();
        keys.acceleratedReady();
    }

    @Override
    public void close() {
        closed = true;
        stack.enter();
        try {
            closeLocked();
        } finally {
            stack.exit();
        }
        queue.wakeAll();
    }

    /**
     * Parks in {@link Stack#await} on this socket's queue until {@code condition} holds, the
     * thread is interrupted, or {@code waitNanos} pass (0: no limit); the caller re-checks.
     */
    final void await(WaitCondition condition, long waitNanos) {
        stack.await(queue, condition, waitNanos > 0 ? waitNanos : -1);
    }

    /** Releases the stack's socket. Under the stack lock. */
    abstract void closeLocked();

    /**
     * What the JDK throws for EADDRINUSE, {@code BindException} "Address already in use", for a
     * port the stack could not take; its cause is the stack's account of who has the port (a
     * socket of the stack, or another program's kernel socket where the NIC holds the stack's
     * ports in the kernel).
     */
    static BindException addressInUse(Exception cause) {
        BindException e = new BindException("Address already in use");
        e.initCause(cause);
        return e;
    }

    /**
     * A port the NIC could not hold in the kernel for a reason other than its being in use (the
     * message says which: the stack's address is not the kernel's, no descriptors left): a
     * {@code SocketException}, as the JDK reports an errno it has no class for.
     */
    static SocketException holdFailed(NicException cause) {
        return new SocketException(cause.getMessage(), cause);
    }

    /** For {@code assert}s at the entry points into the stack: true when this thread holds its lock. */
    final boolean locked() {
        return stack.lock().isHeldByCurrentThread();
    }
}
