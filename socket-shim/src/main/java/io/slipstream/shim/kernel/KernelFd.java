package io.slipstream.shim.kernel;

/**
 * A kernel descriptor shared by the threads using a channel. Closing marks it closed and wakes
 * its waiters at once, but the descriptor itself is closed only when the last call in progress
 * on it has returned, so a number the kernel could hand out again is never used after close.
 */
public final class KernelFd {
    private final int fd;
    private int users;
    private boolean closed;
    private boolean released;

    KernelFd(int fd) {
        this.fd = fd;
    }

    public int fd() {
        return fd;
    }

    /** Starts a call on the descriptor; false once it is closed. */
    public synchronized boolean acquire() {
        if (closed) {
            return false;
        }
        users++;
        return true;
    }

    /** Ends a call started by a successful {@link #acquire}. */
    public void release() {
        boolean last;
        synchronized (this) {
            last = --users == 0 && closed && !released;
            if (last) {
                released = true;
            }
        }
        if (last) {
            NativeScratch.sockets().close(fd);
        }
    }

    public synchronized boolean isClosed() {
        return closed;
    }

    /** True once the descriptor number itself has been given back to the kernel. */
    public synchronized boolean isReleased() {
        return released;
    }

    /** Closes (now, or when the last call in progress ends) and wakes the threads waiting on it. */
    public void close() {
        boolean now;
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            now = users == 0;
            if (now) {
                released = true;
            }
        }
        Poller.forget(fd);
        if (now) {
            NativeScratch.sockets().close(fd);
        }
    }
}
