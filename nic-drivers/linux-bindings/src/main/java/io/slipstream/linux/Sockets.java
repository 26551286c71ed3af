package io.slipstream.linux;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

/**
 * The socket, pipe and epoll system calls of the C library, bound with the FFM API, once for
 * everything that needs them: the socket shim's kernel sockets (the per-socket fallback to the
 * Linux stack) and the drivers (the XDP driver's port reservations).
 *
 * <p>Like {@link Libc}, whose errno capture it shares, an instance belongs to one thread at a
 * time. Every descriptor the shim opens is non-blocking, so the data calls ({@link #recvFrom},
 * {@link #sendTo}, {@link #accept}, {@link #connect}) return at once; they are linked as
 * critical functions with heap access, so a heap {@code ByteBuffer}'s array is passed without
 * a copy. The calls that may block ({@link #epollWait}) are linked normally.
 */
public final class Sockets {
    public static final int AF_UNIX = 1;
    public static final int AF_INET = 2;
    public static final int AF_INET6 = 10;
    public static final int SOCK_STREAM = 1;
    public static final int SOCK_DGRAM = 2;
    public static final int SOCK_NONBLOCK = Libc.O_NONBLOCK;
    public static final int SOCK_CLOEXEC = Libc.O_CLOEXEC;

    public static final int SOL_SOCKET = 1;
    public static final int SO_REUSEADDR = 2;
    public static final int SO_TYPE = 3;
    public static final int SO_ERROR = 4;
    public static final int SO_BROADCAST = 6;
    public static final int SO_SNDBUF = 7;
    public static final int SO_RCVBUF = 8;
    public static final int SO_KEEPALIVE = 9;
    public static final int SO_OOBINLINE = 10;
    public static final int SO_LINGER = 13;
    public static final int SO_REUSEPORT = 15;
    public static final int SO_ACCEPTCONN = 30;
    public static final int SO_DOMAIN = 39;
    /** ioctl that sets or clears O_NONBLOCK on a descriptor (asm-generic/ioctls.h). */
    public static final long FIONBIO = 0x5421;
    /** ioctl that reports the bytes waiting to be read (asm-generic/ioctls.h). */
    public static final long FIONREAD = 0x541B;
    public static final int IPPROTO_IP = 0;
    public static final int IP_TOS = 1;
    public static final int IP_TTL = 2;
    /** Outgoing multicast interface: struct ip_mreqn to set, the interface's in_addr to get (linux/in.h). */
    public static final int IP_MULTICAST_IF = 32;
    public static final int IP_MULTICAST_TTL = 33;
    public static final int IP_MULTICAST_LOOP = 34;
    /** Any-source membership (RFC 1112): struct ip_mreqn. */
    public static final int IP_ADD_MEMBERSHIP = 35;
    public static final int IP_DROP_MEMBERSHIP = 36;
    /** Source filters of an any-source membership (RFC 3678 §4.1.3): struct ip_mreq_source. */
    public static final int IP_UNBLOCK_SOURCE = 37;
    public static final int IP_BLOCK_SOURCE = 38;
    /** Source-specific membership (RFC 3678 §4.1.2): struct ip_mreq_source. */
    public static final int IP_ADD_SOURCE_MEMBERSHIP = 39;
    public static final int IP_DROP_SOURCE_MEMBERSHIP = 40;
    public static final int IP_MULTICAST_ALL = 49;
    public static final int IPPROTO_TCP = 6;
    public static final int TCP_NODELAY = 1;
    public static final int TCP_KEEPIDLE = 4;
    public static final int TCP_KEEPINTVL = 5;
    public static final int TCP_KEEPCNT = 6;
    public static final int TCP_QUICKACK = 12;
    public static final int IPPROTO_IPV6 = 41;
    /** Outgoing multicast interface of an IPv6 socket: an interface index. */
    public static final int IPV6_MULTICAST_IF = 17;
    public static final int IPV6_MULTICAST_HOPS = 18;
    public static final int IPV6_MULTICAST_LOOP = 19;
    public static final int IPV6_V6ONLY = 26;
    public static final int IPV6_TCLASS = 67;

    public static final int SHUT_RD = 0;
    public static final int SHUT_WR = 1;

    public static final int MSG_PEEK = 0x2;
    public static final int MSG_NOSIGNAL = 0x4000;

    public static final int EPOLLIN = 0x1;
    public static final int EPOLLPRI = 0x2;
    public static final int EPOLLOUT = 0x4;
    public static final int EPOLLERR = 0x8;
    public static final int EPOLLHUP = 0x10;
    public static final int EPOLLRDHUP = 0x2000;
    public static final int EPOLLONESHOT = 1 << 30;
    public static final int EPOLL_CTL_ADD = 1;
    public static final int EPOLL_CTL_DEL = 2;
    public static final int EPOLL_CTL_MOD = 3;

    /**
     * struct epoll_event is packed on x86-64 (12 bytes: events at 0, data at 4) and naturally
     * aligned elsewhere (16 bytes: data at 8), per the kernel's uapi eventpoll.h.
     */
    public static final boolean EPOLL_PACKED = "amd64".equals(System.getProperty("os.arch"))
            || "x86_64".equals(System.getProperty("os.arch"));
    public static final long EPOLL_EVENT_SIZE = EPOLL_PACKED ? 12 : 16;
    private static final long EPOLL_DATA_OFFSET = EPOLL_PACKED ? 4 : 8;
    /** epoll_data as it lies in a packed epoll_event: made once, as every select reads it. */
    private static final ValueLayout.OfLong EPOLL_DATA = JAVA_LONG.withByteAlignment(4);

    private static final Linker.Option CAPTURE_ERRNO = Linker.Option.captureCallState("errno");
    /** Non-blocking calls: no thread-state transition, and heap segments may be passed. */
    private static final Linker.Option CRITICAL_HEAP = Linker.Option.critical(true);
    private static final Linker.Option CRITICAL = Linker.Option.critical(false);

    private static final MethodHandle SOCKET = Libc.bind("socket",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT), CAPTURE_ERRNO, CRITICAL);
    private static final FunctionDescriptor FD_ADDR_LEN = FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT);
    private static final MethodHandle BIND = Libc.bind("bind", FD_ADDR_LEN, CAPTURE_ERRNO, CRITICAL);
    private static final MethodHandle CONNECT = Libc.bind("connect", FD_ADDR_LEN, CAPTURE_ERRNO, CRITICAL);
    private static final MethodHandle LISTEN = Libc.bind("listen",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT), CAPTURE_ERRNO, CRITICAL);
    private static final MethodHandle ACCEPT4 = Libc.bind("accept4",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS, JAVA_INT), CAPTURE_ERRNO, CRITICAL);
    private static final FunctionDescriptor FD_ADDR_LENPTR = FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS);
    private static final MethodHandle GETSOCKNAME = Libc.bind("getsockname", FD_ADDR_LENPTR, CAPTURE_ERRNO, CRITICAL);
    private static final MethodHandle GETPEERNAME = Libc.bind("getpeername", FD_ADDR_LENPTR, CAPTURE_ERRNO, CRITICAL);
    private static final MethodHandle GETSOCKOPT = Libc.bind("getsockopt",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, ADDRESS), CAPTURE_ERRNO, CRITICAL);
    private static final MethodHandle SETSOCKOPT = Libc.bind("setsockopt",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT), CAPTURE_ERRNO, CRITICAL);
    private static final MethodHandle SHUTDOWN = Libc.bind("shutdown",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT), CAPTURE_ERRNO, CRITICAL);
    private static final MethodHandle RECVFROM = Libc.bind("recvfrom",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT, ADDRESS, ADDRESS),
            CAPTURE_ERRNO, CRITICAL_HEAP);
    private static final MethodHandle SENDTO = Libc.bind("sendto",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT, ADDRESS, JAVA_INT),
            CAPTURE_ERRNO, CRITICAL_HEAP);
    private static final FunctionDescriptor READ_WRITE_SEGMENT = FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG);
    private static final MethodHandle READ = Libc.bind("read", READ_WRITE_SEGMENT, CAPTURE_ERRNO, CRITICAL_HEAP);
    private static final MethodHandle WRITE = Libc.bind("write", READ_WRITE_SEGMENT, CAPTURE_ERRNO, CRITICAL_HEAP);
    private static final MethodHandle PIPE2 = Libc.bind("pipe2",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT), CAPTURE_ERRNO, CRITICAL);
    private static final MethodHandle EPOLL_CREATE1 = Libc.bind("epoll_create1",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT), CAPTURE_ERRNO, CRITICAL);
    private static final MethodHandle EPOLL_CTL = Libc.bind("epoll_ctl",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS), CAPTURE_ERRNO, CRITICAL);
    private static final MethodHandle EPOLL_WAIT = Libc.bind("epoll_wait",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT), CAPTURE_ERRNO);
    private static final MethodHandle IF_NAMETOINDEX = Libc.bind("if_nametoindex",
            FunctionDescriptor.of(JAVA_INT, ADDRESS), CAPTURE_ERRNO);

    private final Libc libc;
    private final MemorySegment callState;

    /** Socket calls whose errno is captured in {@code libc}'s capture segment. */
    public Sockets(Libc libc) {
        this.libc = libc;
        this.callState = libc.callState();
    }

    public Libc libc() {
        return libc;
    }

    /** errno as the last call left it. */
    public int errno() {
        return libc.errno();
    }

    /** socket(2); returns the descriptor or -1. */
    public int socket(int domain, int type, int protocol) {
        try {
            return (int) SOCKET.invokeExact(callState, domain, type, protocol);
        } catch (Throwable t) {
            throw Libc.linkageFailure("socket", t);
        }
    }

    public int bind(int fd, MemorySegment address, int length) {
        try {
            return (int) BIND.invokeExact(callState, fd, address, length);
        } catch (Throwable t) {
            throw Libc.linkageFailure("bind", t);
        }
    }

    /** connect(2); on a non-blocking socket -1/EINPROGRESS means "under way". */
    public int connect(int fd, MemorySegment address, int length) {
        try {
            return (int) CONNECT.invokeExact(callState, fd, address, length);
        } catch (Throwable t) {
            throw Libc.linkageFailure("connect", t);
        }
    }

    public int listen(int fd, int backlog) {
        try {
            return (int) LISTEN.invokeExact(callState, fd, backlog);
        } catch (Throwable t) {
            throw Libc.linkageFailure("listen", t);
        }
    }

    /** accept4(2); the peer's address is written to {@code address}, its length to {@code lengthPtr}. */
    public int accept(int fd, MemorySegment address, MemorySegment lengthPtr, int flags) {
        try {
            return (int) ACCEPT4.invokeExact(callState, fd, address, lengthPtr, flags);
        } catch (Throwable t) {
            throw Libc.linkageFailure("accept4", t);
        }
    }

    public int getSockName(int fd, MemorySegment address, MemorySegment lengthPtr) {
        try {
            return (int) GETSOCKNAME.invokeExact(callState, fd, address, lengthPtr);
        } catch (Throwable t) {
            throw Libc.linkageFailure("getsockname", t);
        }
    }

    public int getPeerName(int fd, MemorySegment address, MemorySegment lengthPtr) {
        try {
            return (int) GETPEERNAME.invokeExact(callState, fd, address, lengthPtr);
        } catch (Throwable t) {
            throw Libc.linkageFailure("getpeername", t);
        }
    }

    public int getSockOpt(int fd, int level, int name, MemorySegment value, MemorySegment lengthPtr) {
        try {
            return (int) GETSOCKOPT.invokeExact(callState, fd, level, name, value, lengthPtr);
        } catch (Throwable t) {
            throw Libc.linkageFailure("getsockopt", t);
        }
    }

    public int setSockOpt(int fd, int level, int name, MemorySegment value, int length) {
        try {
            return (int) SETSOCKOPT.invokeExact(callState, fd, level, name, value, length);
        } catch (Throwable t) {
            throw Libc.linkageFailure("setsockopt", t);
        }
    }

    public int shutdown(int fd, int how) {
        try {
            return (int) SHUTDOWN.invokeExact(callState, fd, how);
        } catch (Throwable t) {
            throw Libc.linkageFailure("shutdown", t);
        }
    }

    /**
     * recvfrom(2) into {@code buffer} (heap or native); {@code address}/{@code lengthPtr} may be
     * {@link MemorySegment#NULL} when the source is not wanted.
     */
    public long recvFrom(int fd, MemorySegment buffer, long count, int flags, MemorySegment address,
            MemorySegment lengthPtr) {
        try {
            return (long) RECVFROM.invokeExact(callState, fd, buffer, count, flags, address, lengthPtr);
        } catch (Throwable t) {
            throw Libc.linkageFailure("recvfrom", t);
        }
    }

    /** sendto(2) from {@code buffer}; {@code address} NULL with length 0 for a connected socket. */
    public long sendTo(int fd, MemorySegment buffer, long count, int flags, MemorySegment address, int length) {
        try {
            return (long) SENDTO.invokeExact(callState, fd, buffer, count, flags, address, length);
        } catch (Throwable t) {
            throw Libc.linkageFailure("sendto", t);
        }
    }

    /** read(2) on a non-blocking descriptor into a heap or native segment. */
    public long read(int fd, MemorySegment buffer, long count) {
        try {
            return (long) READ.invokeExact(callState, fd, buffer, count);
        } catch (Throwable t) {
            throw Libc.linkageFailure("read", t);
        }
    }

    /** write(2) on a non-blocking descriptor from a heap or native segment. */
    public long write(int fd, MemorySegment buffer, long count) {
        try {
            return (long) WRITE.invokeExact(callState, fd, buffer, count);
        } catch (Throwable t) {
            throw Libc.linkageFailure("write", t);
        }
    }

    public int close(int fd) {
        return libc.close(fd);
    }

    /** pipe2(2): the read end goes to {@code fds[0]}, the write end to {@code fds[1]} (two ints). */
    public int pipe(MemorySegment fds, int flags) {
        try {
            return (int) PIPE2.invokeExact(callState, fds, flags);
        } catch (Throwable t) {
            throw Libc.linkageFailure("pipe2", t);
        }
    }

    public int epollCreate() {
        try {
            return (int) EPOLL_CREATE1.invokeExact(callState, Libc.O_CLOEXEC);
        } catch (Throwable t) {
            throw Libc.linkageFailure("epoll_create1", t);
        }
    }

    /** epoll_ctl(2) with an event of {@code events} whose data is {@code data}; {@code event} is scratch. */
    public int epollCtl(int epfd, int op, int fd, int events, long data, MemorySegment event) {
        event.set(JAVA_INT, 0, events);
        event.set(EPOLL_DATA, EPOLL_DATA_OFFSET, data);
        try {
            return (int) EPOLL_CTL.invokeExact(callState, epfd, op, fd, event);
        } catch (Throwable t) {
            throw Libc.linkageFailure("epoll_ctl", t);
        }
    }

    /** epoll_wait(2); blocks up to {@code timeoutMillis} (negative: forever). */
    public int epollWait(int epfd, MemorySegment events, int maxEvents, int timeoutMillis) {
        try {
            return (int) EPOLL_WAIT.invokeExact(callState, epfd, events, maxEvents, timeoutMillis);
        } catch (Throwable t) {
            throw Libc.linkageFailure("epoll_wait", t);
        }
    }

    /** The events of entry {@code index} of an epoll_wait result array. */
    public static int epollEvents(MemorySegment events, int index) {
        return events.get(JAVA_INT, index * EPOLL_EVENT_SIZE);
    }

    /** The data of entry {@code index} of an epoll_wait result array. */
    public static long epollData(MemorySegment events, int index) {
        return events.get(EPOLL_DATA, index * EPOLL_EVENT_SIZE + EPOLL_DATA_OFFSET);
    }

    /** if_nametoindex(3): the interface's index, or 0 when there is none (errno set). */
    public int ifIndex(String name) {
        try (Arena temp = Arena.ofConfined()) {
            return (int) IF_NAMETOINDEX.invokeExact(callState, temp.allocateFrom(name));
        } catch (Throwable t) {
            throw Libc.linkageFailure("if_nametoindex", t);
        }
    }
}
