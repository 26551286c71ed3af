package io.slipstream.ip;

import io.slipstream.buffer.BufferOwner;
import io.slipstream.buffer.PacketBuffer;
import io.slipstream.stats.Counters;
import io.slipstream.time.Clock;
import io.slipstream.wire.Bytes;
import io.slipstream.wire.Icmp;
import io.slipstream.wire.Ipv4;
import io.slipstream.wire.Ipv4Address;
import io.slipstream.wire.WireError;
import java.lang.foreign.MemorySegment;

/**
 * ICMPv4 (RFC 792, RFC 1122 §3.2.2): answers echo requests, reports echo replies to a
 * listener (the stack's ping), passes errors about our datagrams to the transport that sent
 * them, and sends destination-unreachable and time-exceeded errors, rate limited.
 */
public final class IcmpLayer {
    /** Receives echo replies addressed to this stack. */
    @FunctionalInterface
    public interface EchoListener {
        void onEchoReply(int source, int id, int sequence, int payloadLength, long nowNanos);
    }

    /** Errors per second allowed on average, and the burst (Linux: 1000/s, burst 50). */
    public static final int DEFAULT_ERRORS_PER_SECOND = 1000;
    public static final int DEFAULT_ERROR_BURST = 50;

    private final Ipv4Layer ip;
    private final RoutingTable routes;
    private final Clock clock;
    private final Counters<IpCounter> counters;
    private final Counters<WireError> wireErrors;
    private final BufferOwner owner = new BufferOwner("icmp");
    private final long nanosPerError;
    private final long burstNanos;
    private long allowanceNanos;
    private long lastRefill;
    private EchoListener echoListener;

    IcmpLayer(Ipv4Layer ip, RoutingTable routes, Clock clock, Counters<IpCounter> counters,
              Counters<WireError> wireErrors) {
        this.ip = ip;
        this.routes = routes;
        this.clock = clock;
        this.counters = counters;
        this.wireErrors = wireErrors;
        this.nanosPerError = 1_000_000_000L / DEFAULT_ERRORS_PER_SECOND;
        this.burstNanos = nanosPerError * DEFAULT_ERROR_BURST;
        this.allowanceNanos = burstNanos;
        this.lastRefill = clock.nanoTime();
    }

    public void setEchoListener(EchoListener listener) {
        this.echoListener = listener;
    }

    /** A received ICMP message: {@code msg}'s range is the message; the caller keeps the buffer. */
    void receive(PacketBuffer msg, int src, int dst) {
        MemorySegment s = msg.segment();
        long off = msg.offset();
        int len = msg.length();
        WireError err = Icmp.validate(s, off, len);
        if (err != null) {
            wireErrors.increment(err);
            return;
        }
        switch (Icmp.type(s, off)) {
            case Icmp.TYPE_ECHO_REQUEST -> answerEcho(s, off, len, src, dst);
            case Icmp.TYPE_ECHO_REPLY -> {
                counters.increment(IpCounter.ICMP_ECHO_REPLIES_RECEIVED);
                EchoListener l = echoListener;
                if (l != null) {
                    l.onEchoReply(src, Icmp.echoId(s, off), Icmp.echoSequence(s, off),
                            len - Icmp.HEADER_LENGTH, clock.nanoTime());
                }
            }
            case Icmp.TYPE_DEST_UNREACHABLE, Icmp.TYPE_TIME_EXCEEDED -> receiveError(s, off, len);
            default -> counters.increment(IpCounter.ICMP_UNSUPPORTED_TYPE);
        }
    }

    private void answerEcho(MemorySegment s, long off, int len, int src, int dst) {
        counters.increment(IpCounter.ICMP_ECHO_REQUESTS);
        // RFC 1122 §3.2.2.6 allows ignoring broadcast echo requests; Linux does by default.
        if (routes.isBroadcast(dst)) {
            counters.increment(IpCounter.ICMP_ECHO_BROADCAST_IGNORED);
            return;
        }
        PacketBuffer reply = ip.allocate(owner, len);
        if (reply == null) {
            return; // counted by the IP layer
        }
        MemorySegment r = reply.segment();
        MemorySegment.copy(s, off, r, reply.offset(), len);
        Icmp.requestToReply(r, reply.offset());
        reply.setRange(reply.offset(), len);
        counters.increment(IpCounter.ICMP_ECHO_REPLIES_SENT);
        ip.send(reply, owner, routes.address(), src, Ipv4.PROTO_ICMP, 0, false);
    }

    private void receiveError(MemorySegment s, long off, int len) {
        counters.increment(IpCounter.ICMP_ERRORS_RECEIVED);
        long q = off + Icmp.HEADER_LENGTH;
        int qlen = len - Icmp.HEADER_LENGTH;
        // The quote must hold a sane IPv4 header from us plus 8 bytes of its payload.
        if (qlen < Ipv4.MIN_HEADER_LENGTH || (Bytes.u8(s, q) >>> 4) != 4) {
            counters.increment(IpCounter.ICMP_ERRORS_IGNORED);
            return;
        }
        int qhl = Ipv4.headerLength(s, q);
        if (qhl < Ipv4.MIN_HEADER_LENGTH || qlen < qhl + 8 || Ipv4.source(s, q) != routes.address()) {
            counters.increment(IpCounter.ICMP_ERRORS_IGNORED);
            return;
        }
        Ipv4Transport t = ip.transport(Ipv4.protocol(s, q));
        if (t == null) {
            counters.increment(IpCounter.ICMP_ERRORS_IGNORED);
            return;
        }
        int type = Icmp.type(s, off);
        int code = Icmp.code(s, off);
        int info = type == Icmp.TYPE_DEST_UNREACHABLE && code == Icmp.CODE_FRAGMENTATION_NEEDED
                ? Icmp.nextHopMtu(s, off) : 0;
        t.icmpError(type, code, info, s, q, qlen);
    }

    /**
     * Sends an echo request of {@code payloadLength} bytes (a counting pattern). Returns false
     * when no buffer or route is available.
     */
    public boolean sendEcho(int destination, int id, int sequence, int payloadLength) {
        if (!ip.routable(destination)) {
            return false;
        }
        int len = Icmp.HEADER_LENGTH + payloadLength;
        PacketBuffer b = ip.allocate(owner, len);
        if (b == null) {
            return false;
        }
        MemorySegment s = b.segment();
        long off = b.offset();
        Icmp.writeHeader(s, off, Icmp.TYPE_ECHO_REQUEST, 0, (id << 16) | (sequence & 0xFFFF));
        for (int i = 0; i < payloadLength; i++) {
            Bytes.putU8(s, off + Icmp.HEADER_LENGTH + i, i);
        }
        Icmp.finish(s, off, len);
        b.setRange((int) off, len);
        ip.send(b, owner, routes.address(), destination, Ipv4.PROTO_ICMP, 0, false);
        return true;
    }

    /**
     * Sends an ICMP error about the datagram whose IP header is at {@code ipOff} in {@code s}
     * ({@code length} bytes of it available), unless RFC 1122 §3.2.2 forbids it: never about
     * an ICMP error, a broadcast or multicast, a non-initial fragment, or a source that is not
     * a unicast host. Quotes the IP header and 8 bytes of payload (RFC 792).
     */
    void sendError(int type, int code, int info, MemorySegment s, long ipOff, int length) {
        int src = Ipv4.source(s, ipOff);
        int dst = Ipv4.destination(s, ipOff);
        int hl = Ipv4.headerLength(s, ipOff);
        if (routes.isBroadcast(dst) || Ipv4Address.isMulticast(dst) || src == 0 || routes.isBroadcast(src)
                || Ipv4Address.isMulticast(src) || Ipv4.fragmentOffset(s, ipOff) != 0) {
            return;
        }
        if (Ipv4.protocol(s, ipOff) == Ipv4.PROTO_ICMP && length >= hl + 1 && isError(Bytes.u8(s, ipOff + hl))) {
            return;
        }
        if (!takeToken()) {
            counters.increment(IpCounter.ICMP_ERRORS_RATE_LIMITED);
            return;
        }
        int quote = Math.min(length, hl + Icmp.QUOTE_PAYLOAD);
        int len = Icmp.HEADER_LENGTH + quote;
        PacketBuffer b = ip.allocate(owner, len);
        if (b == null) {
            return;
        }
        MemorySegment m = b.segment();
        long off = b.offset();
        Icmp.writeHeader(m, off, type, code, info & 0xFFFF);
        MemorySegment.copy(s, ipOff, m, off + Icmp.HEADER_LENGTH, quote);
        Icmp.finish(m, off, len);
        b.setRange((int) off, len);
        counters.increment(IpCounter.ICMP_ERRORS_SENT);
        ip.send(b, owner, routes.address(), src, Ipv4.PROTO_ICMP, 0, false);
    }

    private static boolean isError(int type) {
        return type == Icmp.TYPE_DEST_UNREACHABLE || type == Icmp.TYPE_TIME_EXCEEDED
                || type == 4 /* source quench */ || type == 5 /* redirect */ || type == 12 /* parameter problem */;
    }

    private boolean takeToken() {
        long now = clock.nanoTime();
        allowanceNanos = Math.min(burstNanos, allowanceNanos + (now - lastRefill));
        lastRefill = now;
        if (allowanceNanos < nanosPerError) {
            return false;
        }
        allowanceNanos -= nanosPerError;
        return true;
    }
}
