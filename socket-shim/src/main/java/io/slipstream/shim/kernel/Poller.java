package io.slipstream.shim.kernel;

import io.slipstream.linux.Errno;
import io.slipstream.linux.Sockets;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.LockSupport;

/**
 * Waits for kernel descriptors to become ready without blocking the waiting thread in a
 * system call: the waiter arms a one-shot epoll registration and parks; one platform thread
 * per direction (as the JDK's own pollers) blocks in epoll_wait and unparks it. A parked
 * virtual thread therefore never pins its carrier, and interrupting or closing wakes it with an
 * ordinary unpark.
 */
public final class Poller {
    private static final int MAX_EVENTS = 64;
    private static volatile Poller readPoller;
    private static volatile Poller writePoller;

    private final int events;
    private final int epfd;
    private final ConcurrentHashMap<Integer, Thread> waiters = new ConcurrentHashMap<>();

    private Poller(String name, int events) throws IOException {
        this.events = events;
        Sockets sockets = NativeScratch.sockets();
        this.epfd = sockets.epollCreate();
        if (epfd < 0) {
            throw new IOException(sockets.libc().failure("epoll_create1"));
        }
        Thread t = Thread.ofPlatform().daemon().name(name).unstarted(this::run);
        t.start();
    }

    /** Parks until {@code fd} may be readable, the timeout passes (0: no timeout), or unpark. */
    public static void awaitReadable(KernelFd fd, long timeoutNanos) {
        read().await(fd, timeoutNanos);
    }

    /** Parks until {@code fd} may be writable (or a connect finished), as {@link #awaitReadable}. */
    public static void awaitWritable(KernelFd fd, long timeoutNanos) {
        write().await(fd, timeoutNanos);
    }

    /** Unparks every thread waiting on {@code fd} and drops its registrations (before close). */
    static void forget(int fd) {
        for (Poller p : new Poller[] {readPoller, writePoller}) {
            if (p != null) {
                p.drop(fd);
            }
        }
    }

    private static Poller read() {
        Poller p = readPoller;
        return p != null ? p : started(true);
    }

    private static Poller write() {
        Poller p = writePoller;
        return p != null ? p : started(false);
    }

    /** The read or the write poller, started by the first thread that needs it. */
    private static synchronized Poller started(boolean read) {
        if (read && readPoller == null) {
            readPoller = create("slipstream-read-poller", Sockets.EPOLLIN);
        } else if (!read && writePoller == null) {
            writePoller = create("slipstream-write-poller", Sockets.EPOLLOUT);
        }
        return read ? readPoller : writePoller;
    }

    private static Poller create(String name, int events) {
        try {
            return new Poller(name, events);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private void await(KernelFd descriptor, long timeoutNanos) {
        Thread me = Thread.currentThread();
        int fd = descriptor.fd();
        Integer key = fd;
        waiters.put(key, me);
        NativeScratch scratch = NativeScratch.get();
        Sockets s = scratch.sockets;
        int armed = events | Sockets.EPOLLONESHOT;
        if (s.epollCtl(epfd, Sockets.EPOLL_CTL_MOD, fd, armed, fd, scratch.value) < 0
                && s.epollCtl(epfd, Sockets.EPOLL_CTL_ADD, fd, armed, fd, scratch.value) < 0) {
            // A descriptor epoll refuses (closed under us): let the caller retry its call and see why.
            waiters.remove(key, me);
            return;
        }
        // close() marks the descriptor closed before it unparks the waiters it finds: a waiter
        // that registered too late to be found sees the mark here instead.
        if (descriptor.isClosed()) {
            waiters.remove(key, me);
            return;
        }
        if (timeoutNanos > 0) {
            LockSupport.parkNanos(this, timeoutNanos);
        } else {
            LockSupport.park(this);
        }
        waiters.remove(key, me);
    }

    private void drop(int fd) {
        Thread t = waiters.remove(fd);
        NativeScratch scratch = NativeScratch.get();
        scratch.sockets.epollCtl(epfd, Sockets.EPOLL_CTL_DEL, fd, 0, 0, scratch.value);
        if (t != null) {
            LockSupport.unpark(t);
        }
    }

    private void run() {
        Sockets s = NativeScratch.sockets();
        MemorySegment ready = Arena.global().allocate(Sockets.EPOLL_EVENT_SIZE * MAX_EVENTS, 8);
        while (true) {
            int n = s.epollWait(epfd, ready, MAX_EVENTS, -1);
            if (n < 0) {
                if (s.errno() == Errno.EINTR) {
                    continue;
                }
                throw new IllegalStateException(s.libc().failure("epoll_wait"));
            }
            for (int i = 0; i < n; i++) {
                Thread t = waiters.remove((int) Sockets.epollData(ready, i));
                if (t != null) {
                    LockSupport.unpark(t);
                }
            }
        }
    }
}
