package io.slipstream.shim.kernel;

import io.slipstream.linux.Errno;
import io.slipstream.linux.EventFd;
import io.slipstream.linux.Libc;
import io.slipstream.linux.Sockets;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * An epoll set for one selector, with two eventfds in it: one that {@link #wakeup} signals and
 * one that {@link #signal} signals (accelerated sockets becoming ready). Registration and
 * waiting belong to the selecting thread; the signals may come from any thread. A virtual
 * thread's wait parks on the kernel {@link Poller} until the set itself is readable (an epoll
 * descriptor is, while an entry is ready), as the JDK's selector does: it never pins its carrier.
 */
public final class EpollSet implements AutoCloseable {
    /** epoll data of the wakeup eventfd; descriptors use their own number, never negative. */
    public static final long WAKEUP = -1;
    /** epoll data of the signal eventfd. */
    public static final long SIGNAL = -2;

    /**
     * Tag bit of the epoll data of a stack's NIC descriptor ({@link #watchNic}): the data is the
     * descriptor's number with this bit set, which no descriptor number (an int) has.
     */
    public static final long NIC = 1L << 32;

    private final Arena arena = Arena.ofShared();
    private final int epfd;
    /** The set's own descriptor, as the {@link Poller} knows descriptors (a virtual thread's wait). */
    private final KernelFd self;
    private final EventFd wakeup;
    private final EventFd signal;
    private final MemorySegment ready;
    private final MemorySegment event;
    private final int capacity;
    private boolean closed;

    public EpollSet(int capacity) throws IOException {
        this.capacity = capacity;
        Sockets s = NativeScratch.sockets();
        int fd = s.epollCreate();
        if (fd < 0) {
            arena.close();
            throw new IOException(s.libc().failure("epoll_create1"));
        }
        this.epfd = fd;
        this.self = new KernelFd(fd);
        EventFd w = null;
        EventFd g = null;
        try {
            w = EventFd.open(s.libc(), arena);
            g = EventFd.open(s.libc(), arena);
        } catch (IOException e) {
            if (w != null) {
                w.close(s.libc());
            }
            s.close(fd);
            arena.close();
            throw e;
        }
        this.wakeup = w;
        this.signal = g;
        this.ready = arena.allocate(Sockets.EPOLL_EVENT_SIZE * capacity, 8);
        this.event = arena.allocate(16, 8);
        s.epollCtl(epfd, Sockets.EPOLL_CTL_ADD, wakeup.fd(), Sockets.EPOLLIN, WAKEUP, event);
        s.epollCtl(epfd, Sockets.EPOLL_CTL_ADD, signal.fd(), Sockets.EPOLLIN, SIGNAL, event);
    }

    /** Adds, modifies or deletes ({@code op}) a descriptor's interest; data is the descriptor number. */
    public void control(int op, int fd, int events) throws IOException {
        Sockets s = NativeScratch.sockets();
        if (s.epollCtl(epfd, op, fd, events, fd, event) < 0) {
            int e = s.errno();
            if (op == Sockets.EPOLL_CTL_DEL && (e == Errno.ENOENT || e == Errno.EBADF)) {
                return; // already gone with its descriptor
            }
            throw new IOException(s.libc().failure("epoll_ctl"));
        }
    }

    /**
     * Adds a NIC's descriptor (readable while frames wait), disarmed, and returns this set's own
     * duplicate of it, by which {@link #armNic} and {@link #removeNic} know it: the registration
     * and its number stay this set's even after the NIC closes its own descriptor.
     */
    public int addNic(int nicFd) throws IOException {
        Sockets s = NativeScratch.sockets();
        int fd = s.libc().dupCloexec(nicFd);
        if (fd < 0) {
            throw new IOException("cannot watch the NIC: " + s.libc().failure("fcntl(F_DUPFD_CLOEXEC)"));
        }
        if (s.epollCtl(epfd, Sockets.EPOLL_CTL_ADD, fd, Sockets.EPOLLONESHOT, NIC | fd, event) < 0) {
            String failure = s.libc().failure("epoll_ctl");
            s.libc().close(fd);
            throw new IOException(failure);
        }
        return fd;
    }

    /**
     * Arms a NIC descriptor of {@link #addNic} one-shot for POLLIN, or disarms it. Level-triggered:
     * arming one that is readable already reports it at the next wait, so frames that arrived
     * before the arm are never slept through. Its entries carry {@link #NIC} | fd.
     */
    public void armNic(int fd, boolean armed) throws IOException {
        Sockets s = NativeScratch.sockets();
        int events = armed ? Sockets.EPOLLIN | Sockets.EPOLLONESHOT : Sockets.EPOLLONESHOT;
        if (s.epollCtl(epfd, Sockets.EPOLL_CTL_MOD, fd, events, NIC | fd, event) < 0) {
            throw new IOException(s.libc().failure("epoll_ctl"));
        }
    }

    /** Removes a NIC descriptor of {@link #addNic} and closes the duplicate. */
    public void removeNic(int fd) {
        Sockets s = NativeScratch.sockets();
        // Deleted by hand: the NIC's own descriptor may still hold the open file, and with it
        // this registration.
        s.epollCtl(epfd, Sockets.EPOLL_CTL_DEL, fd, 0, 0, event);
        s.libc().close(fd);
    }

    /**
     * Waits up to {@code timeoutMillis} (negative: forever, 0: not at all); returns the entries
     * ready, 0 when the time ran out or a virtual thread was unparked for another reason.
     */
    public int await(int timeoutMillis) throws IOException {
        int timeout = timeoutMillis;
        if (timeout != 0 && Thread.currentThread().isVirtual()) {
            // Blocking in epoll_wait through FFM would hold the carrier: park until the set is
            // readable, then take its entries without blocking.
            Poller.awaitReadable(self, timeout < 0 ? 0 : timeout * 1_000_000L);
            timeout = 0;
        }
        Sockets s = NativeScratch.sockets();
        int n = s.epollWait(epfd, ready, capacity, timeout);
        if (n < 0) {
            if (s.errno() == Errno.EINTR) {
                return 0;
            }
            throw new IOException(s.libc().failure("epoll_wait"));
        }
        return n;
    }

    public int events(int index) {
        return Sockets.epollEvents(ready, index);
    }

    public long data(int index) {
        return Sockets.epollData(ready, index);
    }

    public void wakeup() {
        post(wakeup, true);
    }

    public void drainWakeup() {
        post(wakeup, false);
    }

    public void signal() {
        post(signal, true);
    }

    public void drainSignal() {
        post(signal, false);
    }

    /** Signals ({@code up}) or drains one of the eventfds; nothing once the set is closed (they are gone). */
    private synchronized void post(EventFd fd, boolean up) {
        if (closed) {
            return;
        }
        Libc libc = NativeScratch.sockets().libc();
        if (up) {
            fd.signal(libc);
        } else {
            fd.drain(libc);
        }
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        Libc libc = NativeScratch.sockets().libc();
        wakeup.close(libc);
        signal.close(libc);
        self.close(); // unparks a virtual thread's wait, leaves the poller, closes the descriptor
        arena.close();
    }
}
