package io.slipstream.replay;

import io.slipstream.wire.Ethernet;
import io.slipstream.wire.Ipv4;
import io.slipstream.wire.Tcp;
import io.slipstream.wire.TcpOptions;
import io.slipstream.wire.Udp;
import java.io.ByteArrayOutputStream;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Reads TCP and UDP packets out of Ethernet frames (reassembling UDP datagrams sent in IPv4
 * fragments, which the replay treats as one datagram) and writes them back as frames. One
 * instance per packet stream: it holds the fragments of datagrams not yet complete.
 */
public final class PacketCodec {
    private static final int TTL = 64;

    /** Fragments of one datagram so far, keyed by source, id and protocol (RFC 791). */
    private final Map<Long, List<byte[]>> partial = new HashMap<>();
    private int nextId = 1;

    /**
     * The TCP segment or UDP datagram in {@code frame}, or empty for anything else (ARP, ICMP,
     * a fragment of a datagram still incomplete, a frame too short to read).
     */
    public Optional<ReplayPacket> read(int number, long timeNanos, byte[] frame) {
        MemorySegment s = MemorySegment.ofArray(frame);
        if (frame.length < Ethernet.HEADER_LENGTH + Ipv4.MIN_HEADER_LENGTH
                || Ethernet.outerType(s, 0) != Ethernet.TYPE_IPV4) {
            return Optional.empty();
        }
        int ip = Ethernet.HEADER_LENGTH;
        int ihl = Ipv4.headerLength(s, ip);
        int total = Math.min(Ipv4.totalLength(s, ip), frame.length - ip);
        int protocol = Ipv4.protocol(s, ip);
        if (protocol != Ipv4.PROTO_TCP && protocol != Ipv4.PROTO_UDP) {
            return Optional.empty();
        }
        byte[] body = slice(frame, ip + ihl, ip + total);
        int[] fragments = new int[0];
        if (Ipv4.isFragment(s, ip)) {
            long key = ((long) Ipv4.source(s, ip) << 24) ^ ((long) Ipv4.identification(s, ip) << 8) ^ protocol;
            List<byte[]> parts = partial.computeIfAbsent(key, k -> new ArrayList<>());
            parts.add(frame);
            Optional<byte[]> whole = reassemble(parts);
            if (whole.isEmpty()) {
                return Optional.empty();
            }
            partial.remove(key);
            fragments = parts.stream().sorted((x, y) -> Integer.compare(offsetOf(x), offsetOf(y)))
                    .mapToInt(f -> ipPayloadLength(f)).toArray();
            body = whole.get();
        }
        MemorySegment b = MemorySegment.ofArray(body);
        int src = Ipv4.source(s, ip);
        int dst = Ipv4.destination(s, ip);
        if (protocol == Ipv4.PROTO_UDP) {
            if (body.length < Udp.HEADER_LENGTH) {
                return Optional.empty();
            }
            return Optional.of(new ReplayPacket(number, timeNanos, protocol, src, dst, Udp.sourcePort(b, 0),
                    Udp.destinationPort(b, 0), 0, 0, 0, 0, new TcpOptions(), slice(body, Udp.HEADER_LENGTH,
                    Math.min(body.length, Udp.length(b, 0))), fragments));
        }
        if (body.length < Tcp.MIN_HEADER_LENGTH || Tcp.headerLength(b, 0) > body.length) {
            return Optional.empty();
        }
        TcpOptions options = new TcpOptions();
        options.parse(b, 0);
        return Optional.of(new ReplayPacket(number, timeNanos, protocol, src, dst, Tcp.sourcePort(b, 0),
                Tcp.destinationPort(b, 0), Tcp.flags(b, 0), Tcp.sequence(b, 0), Tcp.acknowledgment(b, 0),
                Tcp.window(b, 0), options, slice(body, Tcp.headerLength(b, 0), body.length), fragments));
    }

    /**
     * {@code p} as Ethernet frames from {@code sourceMac} to {@code destinationMac}: one, or for a
     * UDP datagram recorded in fragments, as many fragments of the recorded sizes.
     */
    public List<byte[]> write(ReplayPacket p, long destinationMac, long sourceMac) {
        byte[] transport;
        if (p.isTcp()) {
            int optionLength = p.options().encodedLength();
            int hl = Tcp.MIN_HEADER_LENGTH + optionLength;
            transport = new byte[hl + p.payload().length];
            MemorySegment t = MemorySegment.ofArray(transport);
            Tcp.writeHeader(t, 0, p.sourcePort(), p.destinationPort(), p.seq(), p.ack(), hl, p.flags(), p.window(), 0);
            p.options().write(t, Tcp.MIN_HEADER_LENGTH);
            System.arraycopy(p.payload(), 0, transport, hl, p.payload().length);
            Tcp.writeChecksum(t, 0, transport.length, p.source(), p.destination());
        } else {
            transport = new byte[Udp.HEADER_LENGTH + p.payload().length];
            System.arraycopy(p.payload(), 0, transport, Udp.HEADER_LENGTH, p.payload().length);
            Udp.write(MemorySegment.ofArray(transport), 0, p.sourcePort(), p.destinationPort(), p.payload().length,
                    p.source(), p.destination());
        }
        int id = nextId++ & 0xFFFF;
        int[] sizes = p.fragmentSizes().length > 0 ? p.fragmentSizes() : new int[] {transport.length};
        List<byte[]> frames = new ArrayList<>();
        int offset = 0;
        for (int i = 0; i < sizes.length; i++) {
            int n = i == sizes.length - 1 ? transport.length - offset : sizes[i];
            boolean more = i < sizes.length - 1;
            int flagsAndOffset = (sizes.length == 1 ? Ipv4.FLAG_DF : 0) | (more ? Ipv4.FLAG_MF : 0) | (offset / 8);
            byte[] f = new byte[Ethernet.HEADER_LENGTH + Ipv4.MIN_HEADER_LENGTH + n];
            MemorySegment s = MemorySegment.ofArray(f);
            Ethernet.write(s, 0, destinationMac, sourceMac, Ethernet.TYPE_IPV4);
            Ipv4.write(s, Ethernet.HEADER_LENGTH, 0, Ipv4.MIN_HEADER_LENGTH + n, id, flagsAndOffset, TTL,
                    p.protocol(), p.source(), p.destination());
            System.arraycopy(transport, offset, f, Ethernet.HEADER_LENGTH + Ipv4.MIN_HEADER_LENGTH, n);
            frames.add(f);
            offset += n;
        }
        return frames;
    }

    private static Optional<byte[]> reassemble(List<byte[]> parts) {
        List<byte[]> sorted = parts.stream().sorted((x, y) -> Integer.compare(offsetOf(x), offsetOf(y))).toList();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int next = 0;
        for (byte[] f : sorted) {
            if (offsetOf(f) != next) {
                return Optional.empty();
            }
            int ip = Ethernet.HEADER_LENGTH;
            int ihl = Ipv4.headerLength(MemorySegment.ofArray(f), ip);
            out.write(f, ip + ihl, ipPayloadLength(f));
            next += ipPayloadLength(f);
        }
        byte[] last = sorted.getLast();
        return Ipv4.moreFragments(MemorySegment.ofArray(last), Ethernet.HEADER_LENGTH) ? Optional.empty()
                : Optional.of(out.toByteArray());
    }

    private static int offsetOf(byte[] frame) {
        return Ipv4.fragmentOffset(MemorySegment.ofArray(frame), Ethernet.HEADER_LENGTH);
    }

    private static int ipPayloadLength(byte[] frame) {
        MemorySegment s = MemorySegment.ofArray(frame);
        return Ipv4.totalLength(s, Ethernet.HEADER_LENGTH) - Ipv4.headerLength(s, Ethernet.HEADER_LENGTH);
    }

    private static byte[] slice(byte[] a, int from, int to) {
        return MemorySegment.ofArray(a).asSlice(from, Math.max(0, to - from)).toArray(ValueLayout.JAVA_BYTE);
    }
}
