package io.slipstream.controlplane;

import static io.slipstream.linux.Rtnetlink.RTM_GETADDR;
import static io.slipstream.linux.Rtnetlink.RTM_GETLINK;
import static io.slipstream.linux.Rtnetlink.RTM_GETNEIGH;
import static io.slipstream.linux.Rtnetlink.RTM_GETROUTE;

import io.slipstream.linux.Errno;
import io.slipstream.linux.EventFd;
import io.slipstream.linux.Libc;
import io.slipstream.linux.NetNamespace;
import io.slipstream.linux.Netlink;
import io.slipstream.linux.Rtnetlink;
import io.slipstream.nic.HostControlPlane;
import io.slipstream.stats.Counters;
import io.slipstream.wire.Ipv4Address;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One interface's control plane, mirrored from the Linux kernel over rtnetlink: the
 * interface's name, MAC, MTU, flags and IPv4 addresses, the IPv4 routes of the main table, and
 * the interface's IPv4 neighbours (the kernel's ARP cache). For a driver that shares the
 * host's interface and address with the kernel (AF_XDP), so that the stack addresses, routes
 * and resolves exactly as the kernel does.
 *
 * <p>{@link #open} reads every table (a dump each), then a daemon thread keeps them current
 * from the kernel's change notifications, off the fast path. After each change it publishes a
 * new immutable {@link InterfaceSnapshot}; readers take {@link #snapshot()} (one volatile read)
 * and look up without locking or allocating. Notifications lost to an overflow of the socket's
 * receive buffer (ENOBUFS) are made up for by reading every table again; while a table is being
 * read again, the previous snapshot stays in place.
 *
 * <p>Neighbours are resolved by the kernel, never by Slipstream: {@link #resolve} asks the
 * kernel to resolve an address (RTM_NEWNEIGH with NTF_USE), the kernel sends its ARP requests
 * and the answer arrives as a notification. The kernel keeps answering ARP for its address.
 *
 * <p>It is the {@link HostControlPlane} the {@code xdp} driver's interface gives its stack: the
 * stack's address, routes and neighbours are the kernel's.
 *
 * <p>Counters are written by the reader thread, except RESOLVE_REQUESTS and
 * RESOLVE_SEND_FAILURES, which {@link #resolve} writes under its lock: each element has one
 * writer at a time, as {@link Counters} requires.
 *
 * <p>The IPv4 kernel drops routes silently when a link goes down or an address goes away (it
 * announces no RTM_DELROUTE for them), so such a change also reads routes and neighbours again.
 */
public final class KernelControlPlane implements HostControlPlane, AutoCloseable {
    /** How long {@link #open} waits for the kernel's first answers. */
    public static final Duration OPEN_TIMEOUT = Duration.ofSeconds(5);
    /** How long {@link #close} waits for the reader thread to end. */
    public static final Duration CLOSE_TIMEOUT = Duration.ofSeconds(5);

    static final int GROUPS = Netlink.RTMGRP_LINK | Netlink.RTMGRP_IPV4_IFADDR | Netlink.RTMGRP_IPV4_ROUTE
            | Netlink.RTMGRP_NEIGH;
    /** The socket's receive buffer: room for a burst of notifications (root may exceed rmem_max). */
    static final int SOCKET_BUFFER = 1 << 20;
    /** One received datagram; larger ones (never sent by the kernel for these tables) count as truncated. */
    static final int DATAGRAM = 64 * 1024;
    private static final int[] ALL_TABLES = {RTM_GETLINK, RTM_GETADDR, RTM_GETROUTE, RTM_GETNEIGH};
    private static final int RETRY_MILLIS = 1000;
    /** Seconds of silence in the middle of a dump after which it is given up and every table read again. */
    private static final int STALLED_DUMP_POLLS = 5;

    private final String requestedName;
    private final Arena arena;
    private final Netlink socket;
    private final Libc libc;
    private final EventFd wakeup;
    private final MemorySegment rx;
    private final MemorySegment tx;
    private final MemorySegment pollFds;
    private final Counters<ControlPlaneCounter> counters = new Counters<>(ControlPlaneCounter.class);
    private final AtomicInteger sequence = new AtomicInteger((int) (System.nanoTime() & 0x7FFF_0000));
    private volatile InterfaceSnapshot snapshot;
    private volatile Runnable listener = () -> { };
    private volatile boolean closing;
    private volatile String firstInternalError;
    private volatile String lastParseError;
    private Thread reader;

    // Resolution requests come from the stack's threads: serialised, with their own errno and buffer.
    private final Object sendLock = new Object();
    private final Libc sendLibc;
    private final MemorySegment sendBuffer;
    private boolean closed;

    // The mirror, confined to the thread that reads the socket (open's, then the reader's).
    private int index;
    private String name;
    private long mac = -1;
    private int mtu;
    private int flags;
    private boolean linkSeen;
    private final Map<Long, int[]> addresses = new LinkedHashMap<>();
    private final Map<RouteKey, InterfaceSnapshot.Route> routes = new LinkedHashMap<>();
    private final Map<Integer, InterfaceSnapshot.Neighbour> neighbours = new HashMap<>();
    private final ArrayDeque<Integer> dumps = new ArrayDeque<>();
    private int dumpType;
    private int dumpSeq;
    private boolean dirty;
    private long generation;

    /** A route's identity in the kernel's FIB (TOS aside): a replacement has the same one. */
    private record RouteKey(int destination, int prefixLength, int metric) {}

    private KernelControlPlane(String requestedName, Arena arena, Netlink socket, EventFd wakeup) {
        this.requestedName = requestedName;
        this.arena = arena;
        this.socket = socket;
        this.wakeup = wakeup;
        this.libc = new Libc(arena);
        this.sendLibc = new Libc(arena);
        this.rx = arena.allocate(DATAGRAM, 8);
        this.tx = arena.allocate(Rtnetlink.MAX_REQUEST, 8);
        this.sendBuffer = arena.allocate(Rtnetlink.MAX_REQUEST, 8);
        this.pollFds = Libc.pollFds(arena, 2);
    }

    /** Mirrors interface {@code interfaceName} of the caller's network namespace. */
    public static KernelControlPlane open(String interfaceName) throws IOException {
        return open(interfaceName, null);
    }

    /**
     * Mirrors interface {@code interfaceName} of the network namespace pinned at
     * {@code namespace} (e.g. {@link NetNamespace#named}), or of the caller's when null. Only
     * the socket is opened in that namespace (on a short-lived thread); it stays bound to it.
     *
     * @throws IOException if netlink cannot be opened, the interface does not exist, or the
     *     kernel does not answer within {@link #OPEN_TIMEOUT}
     */
    public static KernelControlPlane open(String interfaceName, Path namespace) throws IOException {
        return open(interfaceName, namespace, SOCKET_BUFFER);
    }

    /** With a receive buffer of {@code socketBuffer} bytes (tests make it small to provoke overruns). */
    static KernelControlPlane open(String interfaceName, Path namespace, int socketBuffer) throws IOException {
        Objects.requireNonNull(interfaceName, "interfaceName");
        Arena arena = Arena.ofShared();
        Netlink socket = null;
        EventFd wakeup = null;
        Libc libc = new Libc(arena);
        try {
            socket = namespace == null
                    ? Netlink.openRoute(libc, GROUPS, socketBuffer)
                    : NetNamespace.call(namespace, () -> Netlink.openRoute(new Libc(arena), GROUPS, socketBuffer));
            wakeup = EventFd.open(libc, arena);
            KernelControlPlane cp = new KernelControlPlane(interfaceName, arena, socket, wakeup);
            cp.initialSync();
            cp.start();
            return cp;
        } catch (IOException | RuntimeException e) {
            if (socket != null) {
                socket.close(libc);
            }
            if (wakeup != null) {
                wakeup.close(libc);
            }
            arena.close();
            throw e;
        }
    }

    /** The kernel's view of the interface, as last published. Never null once open. */
    public InterfaceSnapshot snapshot() {
        return snapshot;
    }

    /** {@link InterfaceSnapshot#macOf} on the current snapshot. */
    @Override
    public long neighbourMac(int ipv4) {
        return snapshot.macOf(ipv4);
    }

    /** {@link InterfaceSnapshot#nextHop} on the current snapshot. */
    @Override
    public int nextHop(int destination) {
        return snapshot.nextHop(destination);
    }

    /** The interface's IPv4 addresses in the current snapshot, in the kernel's order (primary first). */
    @Override
    public List<Address> addresses() {
        InterfaceSnapshot s = snapshot;
        List<Address> l = new ArrayList<>(s.addressCount());
        for (int i = 0; i < s.addressCount(); i++) {
            l.add(new Address(s.address(i), s.prefixLength(i)));
        }
        return l;
    }

    /** {@link InterfaceSnapshot#defaultGateway} on the current snapshot. */
    @Override
    public int defaultGateway() {
        return snapshot.defaultGateway();
    }

    /** The interface's MTU in the current snapshot. */
    @Override
    public int mtu() {
        return snapshot.mtu();
    }

    /**
     * Runs {@code r} on the reader thread after each new snapshot (e.g. to wake the stack,
     * whose ARP queue waits for a neighbour). It must return quickly and not throw.
     */
    @Override
    public void onChange(Runnable r) {
        listener = Objects.requireNonNull(r);
    }

    public Counters<ControlPlaneCounter> counters() {
        return counters;
    }

    /** The reason of the last malformed message skipped, or null (diagnostics). */
    public String lastParseError() {
        return lastParseError;
    }

    /** The first exception the reader caught (a bug), or null. */
    public String firstInternalError() {
        return firstInternalError;
    }

    /**
     * Asks the kernel to resolve neighbour {@code ipv4} on the interface: it creates the entry
     * if it has none and sends ARP requests for it from its own address, or confirms a stale
     * one. The result arrives in a later snapshot ({@link InterfaceSnapshot#macOf}); a failed
     * resolution shows as state FAILED. One non-blocking system call, from any thread; no
     * allocation. Returns false when the request was not sent (closed, an address that is
     * not a unicast neighbour, or the send failed).
     */
    @Override
    public boolean resolve(int ipv4) {
        InterfaceSnapshot s = snapshot;
        if (s.index() == 0 || ipv4 == Ipv4Address.ANY || ipv4 == Ipv4Address.BROADCAST
                || Ipv4Address.isMulticast(ipv4) || s.isLocal(ipv4)) {
            return false;
        }
        synchronized (sendLock) {
            if (closed) {
                return false;
            }
            int len = Rtnetlink.resolveRequest(sendBuffer, 0, sequence.incrementAndGet(), s.index(), ipv4);
            if (socket.send(sendLibc, sendBuffer.address(), len) != len) {
                counters.increment(ControlPlaneCounter.RESOLVE_SEND_FAILURES);
                return false;
            }
            counters.increment(ControlPlaneCounter.RESOLVE_REQUESTS);
            return true;
        }
    }

    /** Stops the reader thread and closes the socket. Idempotent. */
    @Override
    public void close() {
        synchronized (sendLock) {
            if (closed) {
                return;
            }
            closing = true;
            wakeup.signal(sendLibc);
        }
        boolean stopped = true;
        if (reader != null && reader != Thread.currentThread()) {
            try {
                stopped = reader.join(CLOSE_TIMEOUT);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                stopped = !reader.isAlive();
            }
        }
        synchronized (sendLock) {
            closed = true;
            socket.close(sendLibc);
            wakeup.close(sendLibc);
        }
        if (stopped) {
            arena.close(); // a reader stuck in a call keeps its memory rather than crash
        }
    }

    // ---------------------------------------------------------------- the reader

    private void initialSync() throws IOException {
        counters.increment(ControlPlaneCounter.RESYNCS);
        for (int t : ALL_TABLES) {
            dumps.add(t);
        }
        startNextDump();
        long deadline = System.nanoTime() + OPEN_TIMEOUT.toNanos();
        while (dumpType != 0 || !dumps.isEmpty()) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                throw new IOException("the kernel did not answer netlink dumps within " + OPEN_TIMEOUT);
            }
            Libc.setPollFd(pollFds, 0, socket.fd(), Libc.POLLIN);
            if (libc.poll(pollFds, 1, (int) Math.max(1, Math.min(left / 1_000_000, RETRY_MILLIS))) == 0
                    && dumpType == 0) {
                startNextDump();
            }
            receiveAll();
            if (linkSeen && index == 0 && dumpType != RTM_GETLINK) {
                throw new IOException("no network interface named " + requestedName);
            }
        }
        if (index == 0) {
            throw new IOException("no network interface named " + requestedName);
        }
        publish();
    }

    private void start() {
        reader = Thread.ofPlatform().daemon().name("slipstream-ctlplane-" + requestedName).unstarted(this::run);
        reader.start();
    }

    private void run() {
        int silentPolls = 0;
        while (!closing) {
            try {
                Libc.setPollFd(pollFds, 0, socket.fd(), Libc.POLLIN);
                Libc.setPollFd(pollFds, 1, wakeup.fd(), Libc.POLLIN);
                boolean waiting = dumpType != 0 || !dumps.isEmpty();
                int n = libc.poll(pollFds, 2, waiting ? RETRY_MILLIS : -1);
                if (closing) {
                    return;
                }
                if (n < 0 && libc.errno() != Errno.EINTR) {
                    counters.increment(ControlPlaneCounter.RECEIVE_ERRORS);
                }
                if (n == 0 && dumpType == 0) {
                    startNextDump(); // a dump request that could not be sent before
                } else if (n == 0 && ++silentPolls >= STALLED_DUMP_POLLS) {
                    counters.increment(ControlPlaneCounter.DUMP_ERRORS); // a dump that never ended
                    dumpType = 0;
                    silentPolls = 0;
                    resync();
                }
                if (n != 0) {
                    silentPolls = 0;
                }
                receiveAll();
                if (dumpType == 0 && dumps.isEmpty() && dirty) {
                    publish();
                    listener.run();
                }
            } catch (RuntimeException e) {
                internalError(e); // never out of the reader: the mirror carries on
            }
        }
    }

    /** Reads and applies every datagram waiting on the socket. */
    private void receiveAll() {
        while (true) {
            long len = socket.receive(libc, rx.address(), rx.byteSize());
            if (len < 0) {
                int errno = libc.errno();
                if (errno == Errno.EAGAIN) {
                    return;
                }
                if (errno == Errno.EINTR) {
                    continue;
                }
                if (errno == Errno.ENOBUFS) {
                    counters.increment(ControlPlaneCounter.OVERRUNS);
                    resync();
                    continue;
                }
                counters.increment(ControlPlaneCounter.RECEIVE_ERRORS);
                return;
            }
            if (len > rx.byteSize()) {
                counters.increment(ControlPlaneCounter.PARSE_ERRORS);
                lastParseError = "datagram of " + len + " bytes truncated to " + rx.byteSize();
                resync();
                continue;
            }
            try {
                Rtnetlink.decode(rx, 0, len, this::apply);
            } catch (RuntimeException e) {
                internalError(e);
            }
        }
    }

    private void internalError(RuntimeException e) {
        counters.increment(ControlPlaneCounter.INTERNAL_ERRORS);
        if (firstInternalError == null) {
            firstInternalError = e.toString();
        }
    }

    private void resync() {
        counters.increment(ControlPlaneCounter.RESYNCS);
        dumps.clear();
        for (int t : ALL_TABLES) {
            dumps.add(t);
        }
        startNextDump();
    }

    /** Reads routes and neighbours again (after changes the kernel does not announce in full). */
    private void rereadRoutesAndNeighbours() {
        counters.increment(ControlPlaneCounter.PARTIAL_RESYNCS);
        for (int t : new int[] {RTM_GETROUTE, RTM_GETNEIGH}) {
            if (!dumps.contains(t)) {
                dumps.add(t);
            }
        }
        startNextDump();
    }

    /** Sends the next queued dump request unless one is under way; the table it reads starts empty. */
    private void startNextDump() {
        if (dumpType != 0 || dumps.isEmpty()) {
            return;
        }
        int type = dumps.peek();
        int seq = sequence.incrementAndGet();
        int len = Rtnetlink.dumpRequest(tx, 0, type, seq);
        if (socket.send(libc, tx.address(), len) != len) {
            counters.increment(ControlPlaneCounter.DUMP_ERRORS);
            return; // retried when the reader next wakes
        }
        dumps.poll();
        counters.increment(ControlPlaneCounter.DUMPS);
        dumpType = type;
        dumpSeq = seq;
        dirty = true;
        switch (type) {
            case RTM_GETLINK -> linkSeen = false;
            case RTM_GETADDR -> addresses.clear();
            case RTM_GETROUTE -> routes.clear();
            case RTM_GETNEIGH -> neighbours.clear();
            default -> throw new AssertionError(type);
        }
    }

    private boolean fromDump(int seq) {
        return dumpType != 0 && seq == dumpSeq;
    }

    private void apply(Rtnetlink.Message m) {
        try {
            switch (m) {
                case Rtnetlink.Link l -> onLink(l);
                case Rtnetlink.Address a -> onAddress(a);
                case Rtnetlink.Route r -> onRoute(r);
                case Rtnetlink.Neighbour n -> onNeighbour(n);
                case Rtnetlink.Done d -> onDone(d);
                case Rtnetlink.Error e -> onError(e);
                case Rtnetlink.Ignored i -> counters.increment(ControlPlaneCounter.IGNORED);
                case Rtnetlink.Malformed x -> {
                    counters.increment(ControlPlaneCounter.PARSE_ERRORS);
                    lastParseError = x.reason();
                }
            }
        } catch (RuntimeException e) {
            internalError(e);
        }
    }

    private void onLink(Rtnetlink.Link l) {
        boolean dump = fromDump(l.seq());
        if (index == 0 && !l.deleted() && requestedName.equals(l.name())) {
            index = l.index(); // found in the first link dump, or made again after it was deleted
            if (generation > 0) {
                resync();
            }
        }
        if (l.index() != index || index == 0) {
            counters.increment(ControlPlaneCounter.IGNORED);
            return;
        }
        if (dump) {
            linkSeen = true;
        }
        if (l.deleted()) {
            counters.increment(ControlPlaneCounter.LINK_REMOVED);
            forgetInterface();
            rereadRoutesAndNeighbours(); // its routes go without RTM_DELROUTE
            return;
        }
        boolean changed = false;
        if (l.name() != null && !l.name().equals(name)) {
            name = l.name();
            changed = true;
        }
        if (l.mac() != mac) {
            mac = l.mac();
            changed = true;
        }
        if (l.mtu() >= 0 && l.mtu() != mtu) {
            if (!dump && mtu != 0) {
                counters.increment(ControlPlaneCounter.MTU_CHANGES);
            }
            mtu = l.mtu();
            changed = true;
        }
        int was = flags;
        if (l.flags() != flags) {
            flags = l.flags();
            changed = true;
        }
        if (!changed) {
            return;
        }
        dirty = true;
        if (dump) {
            return;
        }
        counters.increment(ControlPlaneCounter.LINK_UPDATES);
        int upChange = (was ^ flags) & Rtnetlink.IFF_UP;
        if (upChange != 0) {
            counters.increment((flags & Rtnetlink.IFF_UP) != 0 ? ControlPlaneCounter.LINK_UP : ControlPlaneCounter.LINK_DOWN);
        }
        if (((was ^ flags) & (Rtnetlink.IFF_UP | Rtnetlink.IFF_LOWER_UP)) != 0) {
            rereadRoutesAndNeighbours();
        }
    }

    /** The interface is gone: nothing of it can be used (a new one of the same name is adopted). */
    private void forgetInterface() {
        index = 0;
        flags = 0;
        addresses.clear();
        neighbours.clear();
        dirty = true;
    }

    private void onAddress(Rtnetlink.Address a) {
        if (a.index() != index || index == 0) {
            counters.increment(ControlPlaneCounter.IGNORED);
            return;
        }
        boolean dump = fromDump(a.seq());
        long key = (Integer.toUnsignedLong(a.local()) << 8) | a.prefixLength();
        if (a.deleted()) {
            if (addresses.remove(key) != null) {
                dirty = true;
                if (!dump) {
                    counters.increment(ControlPlaneCounter.ADDRESSES_REMOVED);
                    rereadRoutesAndNeighbours(); // routes using it go without RTM_DELROUTE
                }
            }
            return;
        }
        if (addresses.putIfAbsent(key, new int[] {a.local(), a.prefixLength()}) == null) {
            dirty = true;
            if (!dump) {
                counters.increment(ControlPlaneCounter.ADDRESSES_ADDED);
            }
        }
    }

    private void onRoute(Rtnetlink.Route r) {
        if (r.table() != Rtnetlink.RT_TABLE_MAIN || (r.flags() & Rtnetlink.RTM_F_CLONED) != 0) {
            counters.increment(ControlPlaneCounter.IGNORED);
            return;
        }
        boolean dump = fromDump(r.seq());
        int dst = r.destination() & Ipv4Address.mask(r.prefixLength());
        RouteKey key = new RouteKey(dst, r.prefixLength(), r.priority());
        if (r.deleted()) {
            if (routes.remove(key) != null) {
                dirty = true;
                if (!dump) {
                    counters.increment(ControlPlaneCounter.ROUTES_REMOVED);
                }
            }
            return;
        }
        // A multipath route names no single interface: it counts as leaving elsewhere.
        int oif = r.multipath() ? 0 : r.outputInterface();
        var route = new InterfaceSnapshot.Route(dst, r.prefixLength(), r.gateway(), oif, r.priority(),
                r.preferredSource(), r.type());
        if (!route.equals(routes.put(key, route))) {
            dirty = true;
            if (!dump) {
                counters.increment(ControlPlaneCounter.ROUTES_ADDED);
            }
        }
    }

    private void onNeighbour(Rtnetlink.Neighbour n) {
        if (n.index() != index || index == 0) {
            counters.increment(ControlPlaneCounter.IGNORED);
            return;
        }
        boolean dump = fromDump(n.seq());
        if (n.deleted()) {
            if (neighbours.remove(n.address()) != null) {
                dirty = true;
                if (!dump) {
                    counters.increment(ControlPlaneCounter.NEIGHBOURS_REMOVED);
                }
            }
            return;
        }
        var entry = new InterfaceSnapshot.Neighbour(n.address(), n.mac(), n.state());
        if (!entry.equals(neighbours.put(n.address(), entry))) {
            dirty = true;
            if (!dump) {
                counters.increment(ControlPlaneCounter.NEIGHBOURS_UPDATED);
            }
        }
    }

    private void onDone(Rtnetlink.Done d) {
        if (!fromDump(d.seq())) {
            counters.increment(ControlPlaneCounter.IGNORED);
            return;
        }
        int type = dumpType;
        dumpType = 0;
        if (d.interrupted()) {
            counters.increment(ControlPlaneCounter.DUMPS_INTERRUPTED);
            dumps.addFirst(type);
        } else if (type == RTM_GETLINK && !linkSeen && index != 0) {
            counters.increment(ControlPlaneCounter.LINK_REMOVED); // gone while notifications were lost
            forgetInterface();
        }
        if (type == RTM_GETLINK) {
            linkSeen = true;
        }
        startNextDump();
    }

    private void onError(Rtnetlink.Error e) {
        if (e.errno() == 0) {
            return; // an acknowledgement
        }
        if (fromDump(e.seq())) {
            counters.increment(ControlPlaneCounter.DUMP_ERRORS);
            dumpType = 0;
            startNextDump();
        } else if (e.requestType() == Rtnetlink.RTM_NEWNEIGH) {
            counters.increment(ControlPlaneCounter.RESOLVE_REJECTED);
        } else {
            counters.increment(ControlPlaneCounter.IGNORED);
        }
    }

    private void publish() {
        List<InterfaceSnapshot.Neighbour> ns = new ArrayList<>(neighbours.values());
        snapshot = new InterfaceSnapshot(++generation, index, name, mac, mtu, flags,
                new ArrayList<>(addresses.values()), new ArrayList<>(routes.values()), ns);
        counters.increment(ControlPlaneCounter.SNAPSHOTS);
        dirty = false;
    }
}
