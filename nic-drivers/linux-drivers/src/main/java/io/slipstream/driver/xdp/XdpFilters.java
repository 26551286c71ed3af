package io.slipstream.driver.xdp;

import io.slipstream.nic.FlowSteering;
import io.slipstream.linux.Bpf;
import io.slipstream.linux.Errno;
import io.slipstream.linux.Libc;
import io.slipstream.wire.Ipv4Address;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.HashMap;
import java.util.Map;

/**
 * The flows Slipstream owns on an interface: the BPF hash maps {@link XdpProgram} looks frames
 * up in, and (as the interface's {@link FlowSteering}) the kernel sockets that hold their ports
 * ({@link PortReservations}, through {@link #hold} and {@link #release}: the stack holds a port
 * before it steers it and releases it after). Adding or removing an entry is one bpf(2) map
 * update, off the per-packet path; the program sees it on the next frame.
 *
 * <ul>
 *   <li>Listeners and bound sockets: (protocol, local address, local port), the address 0.0.0.0
 *       for a wildcard bind.
 *   <li>Connections: (protocol, local address, local port, remote address, remote port).
 *   <li>Fragments: while at least one UDP socket is bound to an address, the entry (UDP, address,
 *       port 0) sends every UDP fragment to that address to Slipstream, which reassembles it
 *       (the kernel's UDP sockets on the same address then receive no fragmented datagrams).
 *       Counted per address here; TCP needs none (its segments are not fragmented in practice).
 * </ul>
 *
 * Addresses and ports are given as the stack holds them ({@link Ipv4Address} ints, ports as
 * ints) and stored in network byte order. Thread-safe: every method holds this object's lock.
 */
public final class XdpFilters implements FlowSteering, AutoCloseable {
    public static final int PROTO_TCP = XdpProgram.PROTO_TCP;
    public static final int PROTO_UDP = XdpProgram.PROTO_UDP;
    static final int CONN_KEY_SIZE = 16;
    static final int LISTEN_KEY_SIZE = 8;
    private static final int VALUE_SIZE = 4;
    private static final ValueLayout.OfInt NET_INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    private static final ValueLayout.OfShort NET_SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);

    private final String ifname;
    private final Arena arena;
    private final Bpf bpf;
    private final int connMap;
    private final int listenMap;
    private final MemorySegment key;
    private final MemorySegment value;
    /** Where lookups write the value they found. */
    private final MemorySegment found;
    /** UDP sockets bound per address: the fragment entry lives while the count is positive. */
    private final Map<Integer, Integer> udpBindsPerAddress = new HashMap<>();
    private final PortReservations reservations;
    private boolean closed;

    private XdpFilters(String ifname, XdpNamespace namespace, Arena arena, Bpf bpf, int connMap, int listenMap) {
        this.ifname = ifname;
        this.reservations = new PortReservations(ifname, namespace);
        this.arena = arena;
        this.bpf = bpf;
        this.connMap = connMap;
        this.listenMap = listenMap;
        this.key = arena.allocate(CONN_KEY_SIZE, 8);
        this.value = arena.allocate(VALUE_SIZE, 8);
        value.set(ValueLayout.JAVA_INT, 0, 1);
        this.found = arena.allocate(VALUE_SIZE, 8);
    }

    /**
     * Creates the two maps, sized for {@code maxConnections} and {@code maxListeners} entries;
     * the ports steered are held in {@code namespace}, the interface's.
     */
    static XdpFilters create(String ifname, XdpNamespace namespace, int maxConnections, int maxListeners) {
        Arena arena = Arena.ofShared();
        Bpf bpf = new Bpf(new Libc(arena), arena);
        int conn = bpf.mapCreate(Bpf.MAP_TYPE_HASH, CONN_KEY_SIZE, VALUE_SIZE, maxConnections, "ss_conn");
        if (conn < 0) {
            int errno = bpf.libc().errno();
            arena.close();
            throw new BpfException("xdp " + ifname + ": BPF_MAP_CREATE of the connection map: "
                    + Errno.describe(errno), errno);
        }
        int listen = bpf.mapCreate(Bpf.MAP_TYPE_HASH, LISTEN_KEY_SIZE, VALUE_SIZE, maxListeners, "ss_listen");
        if (listen < 0) {
            int errno = bpf.libc().errno();
            bpf.libc().close(conn);
            arena.close();
            throw new BpfException("xdp " + ifname + ": BPF_MAP_CREATE of the listener map: "
                    + Errno.describe(errno), errno);
        }
        return new XdpFilters(ifname, namespace, arena, bpf, conn, listen);
    }

    int connectionMapFd() {
        return connMap;
    }

    int listenerMapFd() {
        return listenMap;
    }

    /**
     * Holds the port in the kernel with a socket of its own ({@link PortReservations}); port 0:
     * one the kernel chooses.
     */
    @Override
    public synchronized int hold(int protocol, int localAddress, int localPort) {
        checkOpen();
        checkProtocol(protocol);
        if (localPort != 0) {
            checkPort(localPort);
        }
        return reservations.hold(protocol, localAddress, localPort);
    }

    @Override
    public synchronized void release(int protocol, int localAddress, int localPort) {
        checkProtocol(protocol);
        reservations.release(protocol, localAddress, localPort);
    }

    /** Whether the port is held in the kernel. */
    public synchronized boolean isHeld(int protocol, int localAddress, int localPort) {
        return reservations.isHeld(protocol, localAddress, localPort);
    }

    /** Ports held in the kernel (one socket each). */
    public synchronized int heldPorts() {
        return reservations.count();
    }

    /**
     * Steers (protocol, local address, local port) to Slipstream: a TCP listener or a bound UDP
     * socket. {@code localAddress} 0 is a wildcard bind. Idempotent for the map; a UDP bind is
     * counted toward its address's fragment entry each time it is added.
     */
    @Override
    public synchronized void addListener(int protocol, int localAddress, int localPort) {
        checkProtocol(protocol);
        checkPort(localPort);
        update(listenMap, listenKey(protocol, localAddress, localPort), "listener");
        if (protocol == PROTO_UDP) {
            int bound = udpBindsPerAddress.merge(localAddress, 1, Integer::sum);
            if (bound == 1) {
                update(listenMap, listenKey(PROTO_UDP, localAddress, 0), "UDP fragment entry");
            }
        }
    }

    /** Stops steering a listener or bound socket; false if it was not there. */
    @Override
    public synchronized boolean removeListener(int protocol, int localAddress, int localPort) {
        checkProtocol(protocol);
        checkPort(localPort);
        boolean removed = delete(listenMap, listenKey(protocol, localAddress, localPort), "listener");
        if (removed && protocol == PROTO_UDP) {
            Integer bound = udpBindsPerAddress.get(localAddress);
            if (bound != null && bound <= 1) {
                udpBindsPerAddress.remove(localAddress);
                delete(listenMap, listenKey(PROTO_UDP, localAddress, 0), "UDP fragment entry");
            } else if (bound != null) {
                udpBindsPerAddress.put(localAddress, bound - 1);
            }
        }
        return removed;
    }

    /** Steers one connection (its full 4-tuple) to Slipstream. */
    @Override
    public synchronized void addConnection(int protocol, int localAddress, int localPort, int remoteAddress,
                                           int remotePort) {
        checkProtocol(protocol);
        checkPort(localPort);
        checkPort(remotePort);
        update(connMap, connKey(protocol, localAddress, localPort, remoteAddress, remotePort), "connection");
    }

    /** Stops steering a connection; false if it was not there. */
    @Override
    public synchronized boolean removeConnection(int protocol, int localAddress, int localPort, int remoteAddress,
                                                 int remotePort) {
        checkProtocol(protocol);
        return delete(connMap, connKey(protocol, localAddress, localPort, remoteAddress, remotePort), "connection");
    }

    /** Whether the kernel's listener map holds this key (read back through bpf(2)). */
    public synchronized boolean hasListener(int protocol, int localAddress, int localPort) {
        return lookup(listenMap, listenKey(protocol, localAddress, localPort));
    }

    /** Whether the kernel's connection map holds this 4-tuple. */
    public synchronized boolean hasConnection(int protocol, int localAddress, int localPort, int remoteAddress,
                                              int remotePort) {
        return lookup(connMap, connKey(protocol, localAddress, localPort, remoteAddress, remotePort));
    }

    /** Entries in the listener map (fragment entries included), counted through bpf(2). */
    public synchronized int listenerEntries() {
        return count(listenMap, LISTEN_KEY_SIZE);
    }

    /** Entries in the connection map, counted through bpf(2). */
    public synchronized int connectionEntries() {
        return count(connMap, CONN_KEY_SIZE);
    }

    private MemorySegment listenKey(int protocol, int address, int port) {
        checkOpen();
        key.fill((byte) 0);
        key.set(NET_INT, 0, address);
        key.set(NET_SHORT, 4, (short) port);
        key.set(ValueLayout.JAVA_BYTE, 6, (byte) protocol);
        return key;
    }

    private MemorySegment connKey(int protocol, int localAddress, int localPort, int remoteAddress, int remotePort) {
        checkOpen();
        key.fill((byte) 0);
        key.set(NET_INT, 0, localAddress);
        key.set(NET_INT, 4, remoteAddress);
        key.set(NET_SHORT, 8, (short) localPort);
        key.set(NET_SHORT, 10, (short) remotePort);
        key.set(ValueLayout.JAVA_BYTE, 12, (byte) protocol);
        return key;
    }

    private void update(int map, MemorySegment k, String what) {
        if (bpf.mapUpdate(map, k.address(), value.address(), Bpf.BPF_ANY) < 0) {
            int errno = bpf.libc().errno();
            throw new BpfException("xdp " + ifname + ": adding a " + what + " filter: " + Errno.describe(errno)
                    + (errno == Errno.E2BIG ? " (the map is full)" : ""), errno);
        }
    }

    private boolean delete(int map, MemorySegment k, String what) {
        if (bpf.mapDelete(map, k.address()) == 0) {
            return true;
        }
        int errno = bpf.libc().errno();
        if (errno == Errno.ENOENT) {
            return false;
        }
        throw new BpfException("xdp " + ifname + ": removing a " + what + " filter: " + Errno.describe(errno), errno);
    }

    private boolean lookup(int map, MemorySegment k) {
        return bpf.mapLookup(map, k.address(), found.address()) == 0;
    }

    private int count(int map, int keySize) {
        checkOpen();
        try (Arena temp = Arena.ofConfined()) {
            MemorySegment cur = temp.allocate(keySize);
            MemorySegment next = temp.allocate(keySize);
            int n = 0;
            long from = 0; // NULL: the first key
            while (bpf.mapNextKey(map, from, next.address()) == 0) {
                n++;
                MemorySegment.copy(next, 0, cur, 0, keySize);
                from = cur.address();
            }
            return n;
        }
    }

    private static void checkProtocol(int protocol) {
        if (protocol != PROTO_TCP && protocol != PROTO_UDP) {
            throw new IllegalArgumentException("protocol must be TCP (6) or UDP (17), got " + protocol);
        }
    }

    private static void checkPort(int port) {
        if (port < 1 || port > 0xffff) {
            throw new IllegalArgumentException("port must be 1..65535, got " + port);
        }
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("xdp " + ifname + ": the filters are closed");
        }
    }

    /**
     * Closes both maps (the program, if still loaded, keeps its own references) and every port
     * reservation. Idempotent.
     */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        reservations.close();
        bpf.libc().close(connMap);
        bpf.libc().close(listenMap);
        arena.close();
    }
}
