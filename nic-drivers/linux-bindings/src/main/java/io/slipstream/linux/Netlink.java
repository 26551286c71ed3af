package io.slipstream.linux;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

/**
 * A netlink socket (AF_NETLINK, netlink(7)): the kernel's message interface to its routing,
 * address and neighbour tables. Messages are built and read by {@link Rtnetlink}; this class
 * only moves their bytes.
 *
 * <p>The socket is non-blocking; its reader waits for it with poll(2) on {@link #fd()}. A
 * socket belongs to the network namespace of the thread that created it, for its whole life,
 * whichever thread uses it later (see {@link NetNamespace}).
 *
 * <p>Sending and receiving may happen on different threads at once (the kernel serialises
 * them), each with its own {@link Libc} and buffers.
 */
public final class Netlink {
    public static final int AF_NETLINK = 16;
    public static final int NETLINK_ROUTE = 0;
    public static final int SOCK_RAW = 3;
    public static final int SOCK_NONBLOCK = 0x800;
    public static final int SOCK_CLOEXEC = 0x80000;

    public static final int SOL_SOCKET = 1;
    public static final int SO_RCVBUF = 8;
    public static final int SO_RCVBUFFORCE = 33;
    public static final int SOL_NETLINK = 270;

    /** Multicast groups of NETLINK_ROUTE, as bind(2) takes them (rtnetlink.h RTMGRP_*). */
    public static final int RTMGRP_LINK = 0x1;
    public static final int RTMGRP_NEIGH = 0x4;
    public static final int RTMGRP_IPV4_IFADDR = 0x10;
    public static final int RTMGRP_IPV4_ROUTE = 0x40;

    /** struct sockaddr_nl: u16 family, u16 pad, u32 pid, u32 groups. */
    private static final int SOCKADDR_NL_SIZE = 12;

    private static final Linker.Option CAPTURE_ERRNO = Linker.Option.captureCallState("errno");
    private static final MethodHandle SOCKET = Libc.bind("socket",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT), CAPTURE_ERRNO);
    private static final MethodHandle BIND = Libc.bind("bind",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT), CAPTURE_ERRNO);
    private static final MethodHandle SETSOCKOPT = Libc.bind("setsockopt",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT), CAPTURE_ERRNO);
    /** send(2) and recv(2) with a native address; neither blocks on this non-blocking socket. */
    private static final FunctionDescriptor IO = FunctionDescriptor.of(JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_INT);
    private static final MethodHandle SEND = Libc.bind("send", IO, CAPTURE_ERRNO);
    private static final MethodHandle RECV = Libc.bind("recv", IO, CAPTURE_ERRNO);

    /** recv(2) flag: return the real length of a datagram larger than the buffer. */
    public static final int MSG_TRUNC = 0x20;

    private final int fd;

    private Netlink(int fd) {
        this.fd = fd;
    }

    /**
     * Opens a NETLINK_ROUTE socket in the calling thread's network namespace, bound to a port
     * the kernel picks and to the multicast {@code groups} (RTMGRP_* bits; 0 for none).
     *
     * @param receiveBuffer the socket's receive buffer in bytes (0 keeps the system default);
     *     root may exceed rmem_max. A burst of notifications larger than it is lost, and the
     *     next receive fails with ENOBUFS.
     */
    public static Netlink openRoute(Libc libc, int groups, int receiveBuffer) throws IOException {
        int fd;
        try {
            fd = (int) SOCKET.invokeExact(libc.callState(), AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC,
                    NETLINK_ROUTE);
        } catch (Throwable t) {
            throw Libc.linkageFailure("socket", t);
        }
        if (fd < 0) {
            throw new IOException(libc.failure("socket(AF_NETLINK, NETLINK_ROUTE)"));
        }
        Netlink nl = new Netlink(fd);
        try (Arena temp = Arena.ofConfined()) {
            if (receiveBuffer > 0) {
                MemorySegment size = temp.allocateFrom(JAVA_INT, receiveBuffer);
                if (nl.setsockopt(libc, SOL_SOCKET, SO_RCVBUFFORCE, size) < 0
                        && nl.setsockopt(libc, SOL_SOCKET, SO_RCVBUF, size) < 0) {
                    throw new IOException(libc.failure("setsockopt(SO_RCVBUF)"));
                }
            }
            MemorySegment addr = temp.allocate(SOCKADDR_NL_SIZE, 4);
            addr.set(JAVA_SHORT, 0, (short) AF_NETLINK);
            addr.set(JAVA_INT, 8, groups);
            int rc;
            try {
                rc = (int) BIND.invokeExact(libc.callState(), fd, addr, SOCKADDR_NL_SIZE);
            } catch (Throwable t) {
                throw Libc.linkageFailure("bind", t);
            }
            if (rc < 0) {
                throw new IOException(libc.failure("bind(AF_NETLINK)"));
            }
        } catch (IOException | RuntimeException e) {
            libc.close(fd);
            throw e;
        }
        return nl;
    }

    public int fd() {
        return fd;
    }

    private int setsockopt(Libc libc, int level, int name, MemorySegment value) {
        try {
            return (int) SETSOCKOPT.invokeExact(libc.callState(), fd, level, name, value, (int) value.byteSize());
        } catch (Throwable t) {
            throw Libc.linkageFailure("setsockopt", t);
        }
    }

    /**
     * Sends one request of {@code length} bytes at native {@code address} to the kernel.
     * Returns the bytes sent, or -1 with errno in {@code libc}.
     */
    public long send(Libc libc, long address, long length) {
        try {
            return (long) SEND.invokeExact(libc.callState(), fd, address, length, 0);
        } catch (Throwable t) {
            throw Libc.linkageFailure("send", t);
        }
    }

    /**
     * Receives one datagram (one or more netlink messages) into {@code capacity} bytes at
     * {@code address}. Returns its length (larger than {@code capacity} if it was cut short),
     * or -1 with errno in {@code libc}: EAGAIN when nothing is waiting, ENOBUFS when
     * notifications were lost because the receive buffer overflowed.
     */
    public long receive(Libc libc, long address, long capacity) {
        try {
            return (long) RECV.invokeExact(libc.callState(), fd, address, capacity, MSG_TRUNC);
        } catch (Throwable t) {
            throw Libc.linkageFailure("recv", t);
        }
    }

    public void close(Libc libc) {
        libc.close(fd);
    }
}
