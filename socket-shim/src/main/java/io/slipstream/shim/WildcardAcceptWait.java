package io.slipstream.shim;

import io.slipstream.linux.Sockets;
import io.slipstream.shim.kernel.EpollSet;
import io.slipstream.shim.kernel.KernelFd;
import java.io.IOException;
import java.util.List;
import java.util.concurrent.locks.ReentrantLock;

/**
 * How a blocking {@code accept} on a wildcard listener (a kernel listener and listeners on
 * stacks) waits: as a mixed selector does, in one epoll set of its own holding the kernel
 * listener, an eventfd the stacks' listeners signal when they become acceptable, and the
 * stacks' NICs ({@link NicWatches}), so a SYN for a stack wakes it and it polls the stack
 * itself. A virtual thread's sleep parks until the set is readable ({@link EpollSet#await}),
 * never pinning its carrier. The set is made at the first such wait and closed with the channel.
 */
final class WildcardAcceptWait implements AutoCloseable {
    /** Held by the waiting thread, and by close, which so never frees the set under a waiter. */
    private final ReentrantLock lock = new ReentrantLock();
    /** Guarded by {@link #lock}; null until the first wait. Read without it by {@link #signal} (volatile). */
    private volatile EpollSet epoll;
    /** Guarded by {@link #lock}. */
    private NicWatches nics;
    /** Guarded by {@link #lock}: the kernel listener's descriptor is in the set. */
    private boolean kernelAdded;
    private volatile boolean closed;
    /** The current wait's early end: made once, reads only flags. */
    private final NicWatches.Done done = () -> closed || Thread.currentThread().isInterrupted();

    /**
     * Waits until a connection may be acceptable on {@code kernel} or {@code onStacks}, the
     * timeout passes (0: no limit), the thread is interrupted or this closes.
     */
    void await(KernelFd kernel, List<AcceleratedListener> onStacks, long timeoutNanos) throws IOException {
        lock.lock();
        try {
            if (closed) {
                return;
            }
            EpollSet e = epoll;
            if (e == null) {
                e = new EpollSet(4);
                nics = new NicWatches(e);
                nics.update();
                for (AcceleratedListener l : onStacks) {
                    nics.want(l.stack());
                }
                nics.endUpdate();
                epoll = e;
            }
            if (!kernelAdded) {
                e.control(Sockets.EPOLL_CTL_ADD, kernel.fd(), Sockets.EPOLLIN);
                kernelAdded = true;
            }
            for (AcceleratedListener l : onStacks) {
                l.mixedWait = this;
            }
            try {
                nics.pollStacks();
                for (AcceleratedListener l : onStacks) {
                    if (l.acceptable()) {
                        return;
                    }
                }
                int n = nics.await(timeoutNanos > 0 ? timeoutNanos : -1, done);
                for (int i = 0; i < n; i++) {
                    long data = e.data(i);
                    if (data == EpollSet.SIGNAL) {
                        e.drainSignal();
                    } else if ((data & EpollSet.NIC) != 0) {
                        nics.fired(data);
                    }
                    // The kernel listener: the caller's accept looks.
                }
            } finally {
                for (AcceleratedListener l : onStacks) {
                    l.mixedWait = null;
                }
            }
        } finally {
            lock.unlock();
        }
    }

    /** A listener on a stack became acceptable or closed (any thread, often under a stack lock). */
    void signal() {
        EpollSet e = epoll;
        if (e != null) {
            e.signal(); // a no-op once the set is closed
        }
    }

    @Override
    public void close() {
        closed = true;
        signal();
        lock.lock();
        try {
            if (nics != null) {
                nics.close();
            }
            EpollSet e = epoll;
            if (e != null) {
                e.close();
            }
        } finally {
            lock.unlock();
        }
    }
}
