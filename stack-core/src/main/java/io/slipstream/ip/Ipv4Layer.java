package io.slipstream.ip;

import io.slipstream.config.Setting;
import io.slipstream.buffer.BufferOwner;
import io.slipstream.buffer.BufferPool;
import io.slipstream.buffer.PacketBuffer;
import io.slipstream.stats.Counters;
import io.slipstream.time.Timers;
import io.slipstream.wire.Ethernet;
import io.slipstream.wire.Icmp;
import io.slipstream.wire.Ipv4;
import io.slipstream.wire.Ipv4Address;
import io.slipstream.wire.MacAddress;
import io.slipstream.wire.WireError;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * IPv4 input and output for one interface (RFC 791, RFC 1122 §3). Input: validates,
 * accepts datagrams for our address or a broadcast, reassembles fragments, dispatches to ICMP
 * or a registered transport. Output ({@link Ipv4Output}): routes, writes the IP and Ethernet
 * headers into the transport's buffer, fragments what exceeds the MTU and hands frames to
 * ARP. A stack terminates traffic; it never forwards.
 */
public final class Ipv4Layer implements Ipv4Output {
    public static final int DEFAULT_TTL = 64;
    public static final int DEFAULT_REASSEMBLY_SLOTS = 8;
    public static final Setting.Whole REASSEMBLY_SLOTS =
            new Setting.Whole("slipstream.ip.reassembly.slots", DEFAULT_REASSEMBLY_SLOTS, 0, 1024, "datagrams");
    public static final Setting.Whole REASSEMBLY_TIMEOUT_MS =
            new Setting.Whole("slipstream.ip.reassembly.timeout.ms", 30_000, 1, 3_600_000, "ms");
    public static final Setting.Whole JUMBO_BUFFERS = new Setting.Whole("slipstream.ip.jumbo.buffers", 8, 1, 1024, "buffers");
    public static final long DEFAULT_REASSEMBLY_TIMEOUT_NANOS = 30_000_000_000L;

    private final BufferPool frames;
    private final BufferPool jumbo;
    private final LinkOutput link;
    private final RoutingTable routes;
    private final int mtu;
    private final Counters<IpCounter> counters = new Counters<>(IpCounter.class);
    private final Counters<WireError> wireErrors;
    private final BufferOwner owner = new BufferOwner("ipv4");
    private final BufferOwner reassemblyOwner = new BufferOwner("ipv4-reassembly");
    private final Ipv4Transport[] transports = new Ipv4Transport[256];
    /** The protocols with a transport, in the order they registered. */
    private int[] registered = {};
    private final ArpTable arp;
    private final Reassembler reassembler;
    private final IcmpLayer icmp;
    // Guarded by the stack lock, as is all of this layer's state (ARP, reassembly, ICMP's rate limit).
    private int nextId;
    /** True while a datagram from our own loopback queue is being received. */
    private boolean looping;

    /**
     * @param frames the interface's frame pool
     * @param jumbo datagram-sized buffers for reassembly and for sending datagrams larger
     *     than the MTU
     */
    public Ipv4Layer(BufferPool frames, BufferPool jumbo, LinkOutput link, RoutingTable routes, int mtu,
                     Timers timers, Counters<WireError> wireErrors, int reassemblySlots, long reassemblyTimeoutNanos,
                     int nextId) {
        if (jumbo.frameSize() < Reassembler.PAYLOAD_OFFSET + Ipv4.MAX_DATAGRAM) {
            throw new IllegalArgumentException("jumbo frames must hold a 64 KiB datagram");
        }
        this.frames = frames;
        this.jumbo = jumbo;
        this.link = link;
        this.routes = routes;
        this.mtu = Math.min(mtu, frames.frameSize() - Ethernet.HEADER_LENGTH);
        this.wireErrors = wireErrors;
        this.nextId = nextId;
        this.arp = new ArpTable(frames, link, timers, routes.address(), routes.host(), this::unresolved);
        this.reassembler = new Reassembler(reassemblySlots, jumbo, reassemblyOwner, timers,
                reassemblyTimeoutNanos, counters, this::reassemblyTimedOut);
        this.icmp = new IcmpLayer(this, routes, timers.clock(), counters, wireErrors);
    }

    public void register(Ipv4Transport transport) {
        if (transports[transport.protocol()] != null) {
            throw new IllegalStateException("protocol " + transport.protocol() + " already registered");
        }
        transports[transport.protocol()] = transport;
        registered = Arrays.copyOf(registered, registered.length + 1);
        registered[registered.length - 1] = transport.protocol();
    }

    /** See {@link Ipv4Transport#receiveBatch}: every registered transport hears of it. */
    public void receiveBatch(boolean begins) {
        for (int protocol : registered) {
            transports[protocol].receiveBatch(begins);
        }
    }

    /**
     * Puts {@code transport} in the place of the one registered for its protocol and returns
     * that one, so a test can sit in front of a stack's own transport (to record what reaches it).
     */
    public Ipv4Transport interpose(Ipv4Transport transport) {
        Ipv4Transport previous = transports[transport.protocol()];
        transports[transport.protocol()] = transport;
        return previous;
    }

    public ArpTable arp() {
        return arp;
    }

    public IcmpLayer icmp() {
        return icmp;
    }

    public Counters<IpCounter> counters() {
        return counters;
    }

    public RoutingTable routes() {
        return routes;
    }

    Ipv4Transport transport(int protocol) {
        return transports[protocol];
    }

    /**
     * The host's control plane reported a change (run under the stack lock by the pass it woke):
     * neighbours the stack waits for may have been resolved.
     */
    public void hostChanged() {
        arp.hostChanged();
    }

    /** Datagrams waiting for missing fragments. */
    public int reassembliesInProgress() {
        return reassembler.inUse();
    }

    // ---------------------------------------------------------------- input

    /**
     * A received Ethernet frame carrying IPv4 at {@code ipOff} (frame range starts at the
     * Ethernet header). Returns true if a transport kept the buffer. Never throws for bad
     * input: every drop is counted.
     */
    public boolean receive(PacketBuffer frame, BufferOwner frameOwner, int ipOff) {
        MemorySegment s = frame.segment();
        long ip = frame.offset() + ipOff;
        WireError err = Ipv4.validate(s, ip, frame.length() - ipOff);
        if (err != null) {
            wireErrors.increment(err);
            return false;
        }
        int src = Ipv4.source(s, ip);
        int dst = Ipv4.destination(s, ip);
        if (!routes.isLocal(dst)) {
            counters.increment(IpCounter.RX_NOT_FOR_US);
            return false;
        }
        // RFC 1122 §3.2.1.3: a source that is broadcast or multicast is discarded; our own
        // address as source only arrives through the loopback queue.
        if (routes.isBroadcast(src) || Ipv4Address.isMulticast(src)
                || src == routes.address() && !looping) {
            counters.increment(IpCounter.RX_BAD_SOURCE);
            return false;
        }
        counters.increment(IpCounter.RX_DATAGRAMS);
        int hl = Ipv4.headerLength(s, ip);
        if (Ipv4.isFragment(s, ip)) {
            PacketBuffer whole = reassembler.offer(s, ip);
            if (whole != null) {
                int wholeHl = reassembler.completedHeaderLength();
                boolean kept = dispatch(whole, reassemblyOwner, src, dst, Ipv4.tos(s, ip), Ipv4.protocol(s, ip),
                        whole.segment(), whole.offset() - wholeHl, wholeHl + whole.length());
                if (!kept) {
                    whole.release(reassemblyOwner);
                }
            }
            return false;
        }
        int total = Ipv4.totalLength(s, ip);
        frame.setRange((int) ip + hl, total - hl);
        return dispatch(frame, frameOwner, src, dst, Ipv4.tos(s, ip), Ipv4.protocol(s, ip), s, ip, total);
    }

    /** Input of a datagram this stack sent to its own address (frame range = Ethernet frame). */
    public boolean receiveLoopback(PacketBuffer frame, BufferOwner frameOwner) {
        looping = true;
        try {
            return receive(frame, frameOwner, Ethernet.HEADER_LENGTH);
        } finally {
            looping = false;
        }
    }

    /**
     * Hands a datagram to ICMP or its transport and acts on the transport's verdict. The IP
     * header ({@code ipSegment} at {@code ipOffset}, {@code ipLength} bytes with the payload) is
     * what an ICMP error about the datagram quotes. Returns whether the transport kept the buffer.
     */
    private boolean dispatch(PacketBuffer datagram, BufferOwner dgOwner, int src, int dst, int tos, int protocol,
                             MemorySegment ipSegment, long ipOffset, int ipLength) {
        if (protocol == Ipv4.PROTO_ICMP) {
            icmp.receive(datagram, src, dst);
            return false;
        }
        Ipv4Transport t = transports[protocol];
        int verdict;
        if (t == null) {
            counters.increment(IpCounter.RX_UNKNOWN_PROTOCOL);
            verdict = ReceiveVerdict.reject(Icmp.CODE_PROTOCOL_UNREACHABLE);
        } else {
            verdict = t.receive(datagram, dgOwner, src, dst, tos);
        }
        if (ReceiveVerdict.isReject(verdict)) {
            // sendError applies RFC 1122's rules: nothing about a broadcast, a multicast, a fragment.
            icmp.sendError(Icmp.TYPE_DEST_UNREACHABLE, ReceiveVerdict.rejectCode(verdict), 0,
                    ipSegment, ipOffset, ipLength);
            return false;
        }
        return verdict == ReceiveVerdict.KEPT;
    }

    // ---------------------------------------------------------------- output

    @Override
    public PacketBuffer allocate(BufferOwner who, int transportLength) {
        if (transportLength < 0 || transportLength > Ipv4.MAX_DATAGRAM - Ipv4.MIN_HEADER_LENGTH) {
            throw new IllegalArgumentException("transport length " + transportLength + " exceeds an IPv4 datagram");
        }
        boolean fits = HEADROOM + transportLength <= frames.frameSize()
                && Ipv4.MIN_HEADER_LENGTH + transportLength <= mtu;
        PacketBuffer b = (fits ? frames : jumbo).acquire(who);
        if (b == null) {
            counters.increment(IpCounter.TX_NO_BUFFER);
            return null;
        }
        return b.setRange(HEADROOM, 0);
    }

    @Override
    public int sourceAddress(int destination) {
        return routes.address();
    }

    @Override
    public int mtu(int destination) {
        return mtu;
    }

    @Override
    public boolean routable(int destination) {
        return destination == routes.address() || routes.nextHop(destination) != RoutingTable.NO_ROUTE;
    }

    @Override
    public void send(PacketBuffer datagram, BufferOwner from, int source, int destination, int protocol,
                     int tos, boolean dontFragment) {
        int len = datagram.length();
        int total = Ipv4.MIN_HEADER_LENGTH + len;
        int nextHop = destination == routes.address() ? destination : routes.nextHop(destination);
        if (nextHop == RoutingTable.NO_ROUTE) {
            counters.increment(IpCounter.TX_NO_ROUTE);
            datagram.release(from);
            return;
        }
        int id = nextId++ & 0xFFFF;
        if (total <= mtu && datagram.pool() == frames) {
            int ipOff = datagram.offset() - Ipv4.MIN_HEADER_LENGTH;
            Ipv4.write(datagram.segment(), ipOff, tos, total, id, dontFragment ? Ipv4.FLAG_DF : 0,
                    DEFAULT_TTL, protocol, source, destination);
            int ethOff = ipOff - Ethernet.HEADER_LENGTH;
            Ethernet.write(datagram.segment(), ethOff, MacAddress.ZERO, link.mac(), Ethernet.TYPE_IPV4);
            datagram.setRange(ethOff, Ethernet.HEADER_LENGTH + total);
            counters.increment(IpCounter.TX_DATAGRAMS);
            toNeighbour(datagram, from, destination, nextHop);
            return;
        }
        if (total > mtu && dontFragment) {
            counters.increment(IpCounter.TX_TOO_BIG);
            datagram.release(from);
            return;
        }
        fragment(datagram, from, source, destination, protocol, tos, id, nextHop);
    }

    /** Splits a datagram into MTU-sized fragments (RFC 791 §3.2), each in its own frame. */
    private void fragment(PacketBuffer datagram, BufferOwner from, int source, int destination, int protocol,
                          int tos, int id, int nextHop) {
        int len = datagram.length();
        int chunk = (mtu - Ipv4.MIN_HEADER_LENGTH) & ~7; // fragment payloads are 8-byte multiples
        counters.increment(IpCounter.TX_DATAGRAMS);
        for (int off = 0; off < len; off += chunk) {
            int n = Math.min(chunk, len - off);
            boolean last = off + n >= len;
            PacketBuffer f = frames.acquire(owner);
            if (f == null) {
                // The rest cannot be sent; the receiver's reassembly will time out. Counted.
                counters.increment(IpCounter.TX_NO_BUFFER);
                break;
            }
            MemorySegment s = f.segment();
            MemorySegment.copy(datagram.segment(), datagram.offset() + off, s, HEADROOM, n);
            Ipv4.write(s, Ethernet.HEADER_LENGTH, tos, Ipv4.MIN_HEADER_LENGTH + n, id,
                    (last ? 0 : Ipv4.FLAG_MF) | (off >>> 3), DEFAULT_TTL, protocol, source, destination);
            Ethernet.write(s, 0, MacAddress.ZERO, link.mac(), Ethernet.TYPE_IPV4);
            f.setRange(0, HEADROOM + n);
            counters.increment(IpCounter.TX_FRAGMENTS);
            toNeighbour(f, owner, destination, nextHop);
        }
        datagram.release(from);
    }

    private void toNeighbour(PacketBuffer frame, BufferOwner from, int destination, int nextHop) {
        if (destination == routes.address()) {
            counters.increment(IpCounter.TX_LOOPBACK);
            Ethernet.setDestination(frame.segment(), frame.offset(), link.mac());
            link.transmit(frame, from);
        } else if (routes.isBroadcast(destination)) {
            Ethernet.setDestination(frame.segment(), frame.offset(), MacAddress.BROADCAST);
            link.transmit(frame, from);
        } else {
            arp.send(frame, from, nextHop);
        }
    }

    /** ARP gave up on a frame's next hop: tell its transport, as a host-unreachable would. */
    private void unresolved(PacketBuffer frame, BufferOwner frameOwner) {
        MemorySegment s = frame.segment();
        long ip = frame.offset() + Ethernet.HEADER_LENGTH;
        int avail = frame.length() - Ethernet.HEADER_LENGTH;
        if (Ipv4.fragmentOffset(s, ip) != 0) {
            return; // only the first fragment quotes the transport header
        }
        Ipv4Transport t = transports[Ipv4.protocol(s, ip)];
        if (t != null) {
            t.icmpError(Icmp.TYPE_DEST_UNREACHABLE, Icmp.CODE_HOST_UNREACHABLE, 0, s, ip, avail);
        }
    }

    private void reassemblyTimedOut(MemorySegment s, long ipOffset, int length) {
        icmp.sendError(Icmp.TYPE_TIME_EXCEEDED, Icmp.CODE_REASSEMBLY_TIME_EXCEEDED, 0, s, ipOffset, length);
    }

    /** Releases every held frame (stack shutdown). */
    public void close() {
        arp.close();
        reassembler.close();
    }
}
