package io.slipstream.driver.xdp;

import io.slipstream.linux.Errno;
import io.slipstream.linux.Libc;
import io.slipstream.linux.SockAddr;
import io.slipstream.linux.Sockets;
import io.slipstream.nic.FlowSteering;
import io.slipstream.nic.NicException;
import io.slipstream.wire.Ipv4Address;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The ports Slipstream owns on the address it shares with the kernel, each held in the kernel
 * by a socket of the same protocol bound to the same (address, port), so that the kernel never
 * gives the port to another program: a kernel program's bind of it fails with EADDRINUSE, and
 * the kernel's own ephemeral choices (connect, bind to port 0) pass it over. The XDP program
 * sends the port's frames to Slipstream before the kernel sees them, so the socket never
 * carries traffic from the interface. Being descriptors, the holds go with the process however
 * it ends, SIGKILL included.
 *
 * <p>The sockets' semantics, and why:
 * <ul>
 *   <li>No SO_REUSEADDR and no SO_REUSEPORT. Linux lets two sockets share a port only when
 *       both set SO_REUSEADDR and neither listens, or both set SO_REUSEPORT; the JDK sets
 *       SO_REUSEADDR on every listener, so a hold with it would let any Java server (and any
 *       program that sets the option) bind and listen on the port beside Slipstream. Without
 *       either, every overlapping bind (the same address, or the wildcard) is refused.
 *   <li>One exception, for TCP: a bind refused while the port's only kernel sockets are
 *       connections in TIME-WAIT (a kernel server that closed its connections first and has
 *       just stopped) is tried again with SO_REUSEADDR, as the JDK's own listener would bind
 *       (it succeeds where their server had the option set too), and the option is cleared as
 *       soon as the socket is bound, since the kernel weighs the option of a socket already
 *       bound when a later socket binds. Live kernel connections on the port are never taken
 *       over: their segments would then be steered to Slipstream, which would reset them.
 *   <li>TCP: bound, never listening. It accepts nothing, so it queues nothing and costs no
 *       memory; a SYN that reaches it some other way (over loopback from this host, or from
 *       another interface) is answered with a RST, as for a closed port. Closing it leaves no
 *       TIME-WAIT: it never connected.
 *   <li>UDP: bound, never read. Datagrams that reach it some other way would queue, so its
 *       receive buffer is set to the kernel's minimum (SO_RCVBUF 1, which Linux raises to its
 *       floor of a few KiB) before the bind: it can never hold more than a datagram or two.
 *       shutdown(SHUT_RD) would not do: Linux's UDP keeps queueing after it.
 *   <li>Close-on-exec, so a program Slipstream's process starts does not inherit the holds.
 * </ul>
 *
 * <p>Port 0 asks the kernel to choose (bind to port 0 and read the port back with
 * getsockname): it picks from its own ephemeral range ({@code net.ipv4.ip_local_port_range}),
 * honouring {@code ip_local_reserved_ports}, a port no kernel socket has. Holds of one
 * (protocol, address, port) count, so a listener and the connections on its port share one
 * socket, closed with the last release.
 *
 * <p>The sockets are made in the interface's network namespace ({@link XdpNamespace}), where the
 * kernel that shares the interface keeps its ports: for another namespace than the process's,
 * each socket(2) (and the look at the TIME-WAIT connections) is made by a thread that enters it
 * for the call; bind, options and close work on the descriptor from any thread.
 *
 * <p>Thread-safe: every method holds this object's lock. Control path only (one socket, bind
 * and possibly getsockname per new port; nothing per packet).
 */
final class PortReservations implements AutoCloseable {
    /** The state column of /proc/net/tcp for TIME-WAIT (TCP_TIME_WAIT in include/net/tcp_states.h). */
    private static final String TCP_TIME_WAIT = "06";

    private final String ifname;
    private final XdpNamespace namespace;
    private final Arena arena;
    private final Sockets sockets;
    private final MemorySegment sockaddr;
    private final MemorySegment length;
    private final MemorySegment intValue;
    /** The holds by {@link #key}; guarded by this. */
    private final Map<Long, Reservation> held = new HashMap<>();
    private boolean closed;

    /** One kernel socket and the number of holds on it. */
    private static final class Reservation {
        final int fd;
        int holds = 1;

        Reservation(int fd) {
            this.fd = fd;
        }
    }

    PortReservations(String ifname, XdpNamespace namespace) {
        this.ifname = ifname;
        this.namespace = namespace;
        this.arena = Arena.ofShared();
        this.sockets = new Sockets(new Libc(arena));
        this.sockaddr = arena.allocate(SockAddr.MAX_LENGTH, 8);
        this.length = arena.allocate(ValueLayout.JAVA_INT);
        this.intValue = arena.allocate(ValueLayout.JAVA_INT);
    }

    private static long key(int protocol, int address, int port) {
        return ((long) protocol << 48) | ((long) port << 32) | (address & 0xFFFF_FFFFL);
    }

    /**
     * Holds (protocol, address, port) in the kernel; port 0: one the kernel chooses.
     *
     * @return the port held, or {@link FlowSteering#IN_USE} if the kernel has it (for 0: has no
     *     free one)
     * @throws NicException when the kernel refuses for another reason (the address is not one of
     *     its own, no descriptors left): the message says which
     */
    synchronized int hold(int protocol, int address, int port) {
        checkOpen();
        if (port != 0) {
            Reservation r = held.get(key(protocol, address, port));
            if (r != null) {
                r.holds++;
                return port;
            }
        }
        int type = (protocol == FlowSteering.PROTO_TCP ? Sockets.SOCK_STREAM : Sockets.SOCK_DGRAM) | Sockets.SOCK_CLOEXEC;
        // In another namespace the call is made by a thread that has ended (joined) when run
        // returns, so the errno it left in our capture segment is ours to read.
        int fd = namespace.run(ifname, () -> sockets.socket(Sockets.AF_INET, type, 0));
        if (fd < 0) {
            throw failure("socket", protocol, address, port, sockets.errno());
        }
        try {
            if (protocol == FlowSteering.PROTO_UDP) {
                intValue.set(ValueLayout.JAVA_INT, 0, 1);
                if (sockets.setSockOpt(fd, Sockets.SOL_SOCKET, Sockets.SO_RCVBUF, intValue, Integer.BYTES) < 0) {
                    throw failure("setsockopt(SO_RCVBUF)", protocol, address, port, sockets.errno());
                }
            }
            int n = SockAddr.encode(new InetSocketAddress(inet(address), port), Sockets.AF_INET, sockaddr);
            if (sockets.bind(fd, sockaddr, n) < 0) {
                int errno = sockets.errno();
                if (errno != Errno.EADDRINUSE) {
                    throw failure("bind", protocol, address, port, errno);
                }
                if (protocol != FlowSteering.PROTO_TCP || port == 0
                        || !namespace.run(ifname, () -> onlyTimeWait(port))
                        || !bindReusingTimeWait(fd, n, protocol, address, port)) {
                    sockets.close(fd);
                    return FlowSteering.IN_USE;
                }
            }
            int bound = port;
            if (bound == 0) {
                length.set(ValueLayout.JAVA_INT, 0, SockAddr.MAX_LENGTH);
                if (sockets.getSockName(fd, sockaddr, length) < 0) {
                    throw failure("getsockname", protocol, address, port, sockets.errno());
                }
                bound = ((InetSocketAddress) SockAddr.decode(sockaddr, length.get(ValueLayout.JAVA_INT, 0))).getPort();
            }
            held.put(key(protocol, address, bound), new Reservation(fd));
            return bound;
        } catch (RuntimeException | Error e) {
            sockets.close(fd);
            throw e;
        }
    }

    /**
     * Binds {@code fd} with SO_REUSEADDR, past the port's TIME-WAIT connections, then clears the
     * option; false if the kernel still refuses (their server had not set it).
     */
    private boolean bindReusingTimeWait(int fd, int length, int protocol, int address, int port) {
        setReuseAddress(fd, 1, protocol, address, port);
        if (sockets.bind(fd, sockaddr, length) < 0) {
            int errno = sockets.errno();
            if (errno == Errno.EADDRINUSE) {
                return false;
            }
            throw failure("bind", protocol, address, port, errno);
        }
        setReuseAddress(fd, 0, protocol, address, port);
        return true;
    }

    private void setReuseAddress(int fd, int on, int protocol, int address, int port) {
        intValue.set(ValueLayout.JAVA_INT, 0, on);
        if (sockets.setSockOpt(fd, Sockets.SOL_SOCKET, Sockets.SO_REUSEADDR, intValue, Integer.BYTES) < 0) {
            throw failure("setsockopt(SO_REUSEADDR)", protocol, address, port, sockets.errno());
        }
    }

    /**
     * Whether every kernel TCP socket on {@code port}, on any address, IPv4 or IPv6, is a
     * connection in TIME-WAIT, as the calling thread's network namespace lists them in tcp and
     * tcp6 of /proc/thread-self/net (/proc/net is the main thread's namespace's). Any address,
     * so a socket elsewhere on the port makes the answer no: a refusal to take over, never a
     * takeover of something live.
     */
    private static boolean onlyTimeWait(int port) {
        String wantedPort = String.format(Locale.ROOT, ":%04X", port);
        boolean any = false;
        for (String table : new String[] {"/proc/thread-self/net/tcp", "/proc/thread-self/net/tcp6"}) {
            List<String> lines;
            try {
                lines = Files.readAllLines(Path.of(table));
            } catch (IOException e) {
                return false; // cannot tell: refuse
            }
            for (int i = 1; i < lines.size(); i++) {
                String[] f = lines.get(i).trim().split("\\s+");
                if (f.length > 3 && f[1].endsWith(wantedPort)) {
                    if (!TCP_TIME_WAIT.equals(f[3])) {
                        return false;
                    }
                    any = true;
                }
            }
        }
        return any;
    }

    /** Gives back one hold; the last closes the socket, and the kernel may give the port out again. */
    synchronized void release(int protocol, int address, int port) {
        if (closed) {
            return; // every socket went with close
        }
        long k = key(protocol, address, port);
        Reservation r = held.get(k);
        if (r == null) {
            throw new IllegalStateException("xdp " + ifname + ": releasing " + describe(protocol, address, port)
                    + ", which is not held");
        }
        if (--r.holds == 0) {
            held.remove(k);
            sockets.close(r.fd);
        }
    }

    /** Whether (protocol, address, port) is held. */
    synchronized boolean isHeld(int protocol, int address, int port) {
        return held.containsKey(key(protocol, address, port));
    }

    /** The ports held (one per socket, however many holds each). */
    synchronized int count() {
        return held.size();
    }

    private NicException failure(String call, int protocol, int address, int port, int errno) {
        return new NicException("xdp " + ifname + ": reserving " + describe(protocol, address, port)
                + " in the kernel: " + call + ": " + Errno.describe(errno)
                + (errno == Errno.EADDRNOTAVAIL ? " (the stack's address must be one of the kernel's own on the"
                        + " interface it shares)" : ""));
    }

    private static String describe(int protocol, int address, int port) {
        return (protocol == FlowSteering.PROTO_TCP ? "TCP " : "UDP ") + Ipv4Address.format(address) + ":"
                + (port == 0 ? "(any port)" : Integer.toString(port));
    }

    private static InetAddress inet(int address) {
        try {
            return InetAddress.getByAddress(new byte[] {
                (byte) (address >>> 24), (byte) (address >>> 16), (byte) (address >>> 8), (byte) address});
        } catch (UnknownHostException e) {
            throw new AssertionError(e); // four bytes are always an address
        }
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("xdp " + ifname + ": the port reservations are closed");
        }
    }

    /** Closes every socket: the kernel may give all the ports out again. Idempotent. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        for (Reservation r : held.values()) {
            sockets.close(r.fd);
        }
        held.clear();
        arena.close();
    }
}
