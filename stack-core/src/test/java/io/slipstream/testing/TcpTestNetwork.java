package io.slipstream.testing;

import io.slipstream.buffer.BufferOwner;
import io.slipstream.buffer.BufferPool;
import io.slipstream.buffer.PacketBuffer;
import io.slipstream.ip.Ipv4Output;
import io.slipstream.ip.ReceiveVerdict;
import io.slipstream.tcp.TcpConfig;
import io.slipstream.tcp.TcpLayer;
import io.slipstream.time.Timers;
import io.slipstream.time.VirtualClock;
import io.slipstream.wire.Ipv4;
import io.slipstream.wire.Tcp;
import io.slipstream.wire.TcpOptions;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.PriorityQueue;
import java.util.Random;
import java.util.function.BooleanSupplier;
import java.util.function.Predicate;

/**
 * Two TCP layers joined by an in-process IP "link" on one {@link VirtualClock}: segments sent
 * by one are copied, passed through seeded impairments (loss, duplication, reordering, delay)
 * and delivered to the other, with every timer driven by virtual time. Nothing sleeps; the
 * same seed gives the same run. Tests can watch, drop or inject segments.
 */
public final class TcpTestNetwork implements AutoCloseable {
    public static final int ADDRESS_A = 0xC6120001; // 198.18.0.1
    public static final int ADDRESS_B = 0xC6120002; // 198.18.0.2
    public static final int ADDRESS_UNROUTABLE = 0xC6130009; // 198.19.0.9

    /** One captured segment: who sent it, when, and its bytes (TCP header onward). */
    public record Segment(int source, int destination, long sentAtNanos, byte[] bytes) {
        public MemorySegment segment() {
            return MemorySegment.ofArray(bytes);
        }

        public int seq() {
            return Tcp.sequence(segment(), 0);
        }

        public int ack() {
            return Tcp.acknowledgment(segment(), 0);
        }

        public int flags() {
            return Tcp.flags(segment(), 0);
        }

        public boolean has(int flag) {
            return (flags() & flag) == flag;
        }

        public int window() {
            return Tcp.window(segment(), 0);
        }

        public int sourcePort() {
            return Tcp.sourcePort(segment(), 0);
        }

        public int destinationPort() {
            return Tcp.destinationPort(segment(), 0);
        }

        public int payloadLength() {
            return bytes.length - Tcp.headerLength(segment(), 0);
        }

        public TcpOptions options() {
            TcpOptions o = new TcpOptions();
            o.parse(segment(), 0);
            return o;
        }

        public boolean fromA() {
            return source == ADDRESS_A;
        }

        @Override
        public String toString() {
            return (fromA() ? "A>B " : "B>A ") + Tcp.flagString(flags()) + " seq=" + Integer.toUnsignedString(seq())
                    + " ack=" + Integer.toUnsignedString(ack()) + " len=" + payloadLength() + " win=" + window()
                    + " " + options();
        }
    }

    private record InFlight(long deliverAt, long order, Segment segment) {}

    /** One end: a TCP layer with its timers, behind an Ipv4Output that feeds the link. */
    public final class Node extends LinkOutput {
        public final int address;
        public final TcpLayer layer;
        public final Timers timers;
        final BufferOwner linkOwner = new BufferOwner("link");

        Node(int address, TcpConfig config, long seed) {
            super(pool, address);
            this.address = address;
            this.timers = new Timers(clock);
            byte[] secret = new byte[48];
            new Random(seed ^ address).nextBytes(secret);
            this.layer = new TcpLayer(this, timers, clock, config, secret);
        }

        @Override
        public int mtu(int destination) {
            return mtu;
        }

        @Override
        public boolean routable(int destination) {
            return destination == ADDRESS_A || destination == ADDRESS_B;
        }

        @Override
        public void send(PacketBuffer datagram, BufferOwner from, int source, int destination, int protocol,
                         int tos, boolean dontFragment) {
            byte[] bytes = datagram.segment().asSlice(datagram.offset(), datagram.length()).toArray(ValueLayout.JAVA_BYTE);
            datagram.release(from);
            if (protocol != Ipv4.PROTO_TCP) {
                throw new AssertionError("the TCP layer sent protocol " + protocol);
            }
            transmit(new Segment(source, destination, clock.nanoTime(), bytes));
        }

        /** Delivers a crafted segment to this node's layer at once, as if from {@code source}. */
        public void receive(int source, byte[] tcpBytes) {
            PacketBuffer b = pool.acquire(linkOwner);
            if (b == null) {
                throw new AssertionError("link buffer pool exhausted");
            }
            MemorySegment.copy(MemorySegment.ofArray(tcpBytes), 0, b.segment(), HEADROOM, tcpBytes.length);
            b.setRange(HEADROOM, tcpBytes.length);
            boolean taken = layer.receive(b, linkOwner, source, address, 0) == ReceiveVerdict.KEPT;
            if (!taken) {
                b.release(linkOwner);
            }
        }
    }

    public final VirtualClock clock = new VirtualClock();
    public final Random random;
    private final BufferPool pool = BufferPool.allocate(256, BufferPool.DEFAULT_FRAME_SIZE);
    public final Node a;
    public final Node b;
    private final PriorityQueue<InFlight> inFlight = new PriorityQueue<>((x, y) -> x.deliverAt != y.deliverAt
            ? Long.compare(x.deliverAt, y.deliverAt) : Long.compare(x.order, y.order));
    private long order;
    private int mtu = 1500;

    // impairments
    private double loss;
    private double duplication;
    private double reorder;
    private long delayNanos = 1_000_000L;
    private long jitterNanos;
    /** Segments for which this returns true are dropped (after capture). */
    public Predicate<Segment> dropFilter = s -> false;
    /** Runs after every delivered segment and every timer batch (invariant checks). */
    public Runnable afterEachEvent = () -> { };
    private final List<Segment> captured = new ArrayList<>();
    private boolean capture = true;
    private long segmentsCarried;

    public TcpTestNetwork(long seed, TcpConfig config) {
        this(seed, config, config);
    }

    public TcpTestNetwork(long seed, TcpConfig configA, TcpConfig configB) {
        this.random = new Random(seed);
        this.a = new Node(ADDRESS_A, configA, seed);
        this.b = new Node(ADDRESS_B, configB, seed + 1);
    }

    public TcpTestNetwork mtu(int bytes) {
        this.mtu = bytes;
        return this;
    }

    /** One-way delay per segment plus up to {@code jitter} extra (which also reorders). */
    public TcpTestNetwork delay(long delayMillis, long jitterMicros) {
        this.delayNanos = delayMillis * 1_000_000L;
        this.jitterNanos = jitterMicros * 1_000L;
        return this;
    }

    public TcpTestNetwork impair(double lossRate, double duplicationRate, double reorderRate) {
        this.loss = lossRate;
        this.duplication = duplicationRate;
        this.reorder = reorderRate;
        return this;
    }

    public TcpTestNetwork capture(boolean on) {
        this.capture = on;
        return this;
    }

    public Node peerOf(Node n) {
        return n == a ? b : a;
    }

    public List<Segment> captured() {
        return captured;
    }

    public void clearCaptured() {
        captured.clear();
    }

    public long segmentsCarried() {
        return segmentsCarried;
    }

    /** Buffers currently outside the pool (a leak if nonzero once everything is delivered). */
    public int buffersOutstanding() {
        return pool.outstanding();
    }

    private void transmit(Segment s) {
        segmentsCarried++;
        if (capture) {
            captured.add(s);
        }
        if (dropFilter.test(s)) {
            return;
        }
        if (loss > 0 && random.nextDouble() < loss) {
            return;
        }
        enqueue(s);
        if (duplication > 0 && random.nextDouble() < duplication) {
            enqueue(s);
        }
    }

    private void enqueue(Segment s) {
        long d = delayNanos;
        if (jitterNanos > 0) {
            d += (long) (random.nextDouble() * jitterNanos);
        }
        if (reorder > 0 && random.nextDouble() < reorder) {
            d += delayNanos + 1 + (long) (random.nextDouble() * 3 * Math.max(delayNanos, 1));
        }
        inFlight.add(new InFlight(clock.nanoTime() + d, order++, s));
    }

    /** Delivers every segment due now and fires due timers, until nothing more is due now. */
    public void settle() {
        for (int guard = 0; guard < 1_000_000; guard++) {
            boolean did = false;
            InFlight f = inFlight.peek();
            if (f != null && f.deliverAt <= clock.nanoTime()) {
                inFlight.poll();
                Node to = f.segment.destination == ADDRESS_A ? a : b;
                to.receive(f.segment.source, f.segment.bytes);
                afterEachEvent.run();
                did = true;
            }
            if (a.timers.expire() > 0) {
                afterEachEvent.run();
                did = true;
            }
            if (b.timers.expire() > 0) {
                afterEachEvent.run();
                did = true;
            }
            if (!did) {
                return;
            }
        }
        throw new AssertionError("the network does not settle (a segment storm?)");
    }

    /** The next instant something happens, or Long.MAX_VALUE. */
    public long nextEvent() {
        long t = Math.min(a.timers.nextDeadline(), b.timers.nextDeadline());
        InFlight f = inFlight.peek();
        return f == null ? t : Math.min(t, f.deliverAt);
    }

    /** Runs events in order for {@code millis} of virtual time. */
    public void runFor(long millis) {
        runUntilTime(clock.nanoTime() + millis * 1_000_000L);
    }

    public void runUntilTime(long endNanos) {
        settle();
        for (int guard = 0; guard < 10_000_000; guard++) {
            long next = nextEvent();
            if (next > endNanos) {
                clock.advanceTo(endNanos);
                settle();
                return;
            }
            clock.advanceTo(next);
            settle();
        }
        throw new AssertionError("too many events");
    }

    /**
     * Runs until {@code done} holds, checking after every event, for at most {@code maxMillis} of
     * virtual time; returns whether it held.
     */
    public boolean runUntil(BooleanSupplier done, long maxMillis) {
        long end = clock.nanoTime() + maxMillis * 1_000_000L;
        settle();
        for (int guard = 0; guard < 10_000_000; guard++) {
            if (done.getAsBoolean()) {
                return true;
            }
            long next = nextEvent();
            if (next > end) {
                clock.advanceTo(end);
                settle();
                return done.getAsBoolean();
            }
            clock.advanceTo(next);
            settle();
        }
        throw new AssertionError("too many events");
    }

    /** Segments still on the wire. */
    public int inFlightCount() {
        return inFlight.size();
    }

    /** Drops everything on the wire (a link outage). */
    public void dropInFlight() {
        inFlight.clear();
    }

    /**
     * Builds a TCP segment with a correct checksum for injection: {@code options} may be null.
     */
    public static byte[] craft(int srcAddr, int dstAddr, int srcPort, int dstPort, int seq, int ack, int flags,
                               int window, TcpOptions options, byte[] payload) {
        int ol = options == null ? 0 : options.encodedLength();
        int len = Tcp.MIN_HEADER_LENGTH + ol + payload.length;
        MemorySegment s = MemorySegment.ofArray(new byte[len]);
        if (options != null) {
            options.write(s, Tcp.MIN_HEADER_LENGTH);
        }
        MemorySegment.copy(MemorySegment.ofArray(payload), 0, s, Tcp.MIN_HEADER_LENGTH + ol, payload.length);
        Tcp.writeHeader(s, 0, srcPort, dstPort, seq, ack, Tcp.MIN_HEADER_LENGTH + ol, flags, window, 0);
        Tcp.writeChecksum(s, 0, len, srcAddr, dstAddr);
        return s.toArray(ValueLayout.JAVA_BYTE);
    }

    @Override
    public void close() {
        inFlight.clear();
        a.layer.close();
        b.layer.close();
        pool.close();
    }
}
