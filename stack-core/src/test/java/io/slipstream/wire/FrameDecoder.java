package io.slipstream.wire;

import java.lang.foreign.MemorySegment;

/**
 * Walks a received frame through our codecs the way the receive path does: link header,
 * then {@code validate}, then the accessors, layer by layer. Used by the fuzz properties (it
 * must never throw on any input) and by the cross-checks against Pcap4J.
 *
 * <p>Unlike the stack, it keeps reading past a bad checksum (the structural checks run before
 * the checksum in every {@code validate}, so the accessors are safe there) because captures
 * taken with checksum offload carry wrong checksums that both decoders must judge alike.
 */
final class FrameDecoder {
    private FrameDecoder() {}

    static Decoded decode(MemorySegment s, int length) {
        int hl = Ethernet.headerLength(s, 0, length);
        if (hl < 0) {
            return new Decoded(null, null, null, null, null, WireError.ETH_TRUNCATED);
        }
        int type = Ethernet.payloadType(s, 0);
        var eth = new Decoded.EthView(Ethernet.destination(s, 0), Ethernet.source(s, 0), hl, type,
                Ethernet.isTagged(s, 0) ? Ethernet.vlanId(s, 0) : -1);
        return switch (type) {
            case Ethernet.TYPE_ARP -> decodeArp(eth, s, hl, length - hl);
            case Ethernet.TYPE_IPV4 -> decodeIpv4(eth, s, hl, length - hl);
            default -> new Decoded(eth, null, null, null, null, null);
        };
    }

    private static Decoded decodeArp(Decoded.EthView eth, MemorySegment s, long off, int available) {
        WireError e = Arp.validate(s, off, available);
        if (e != null) {
            return new Decoded(eth, null, null, null, null, e);
        }
        var arp = new Decoded.ArpView(Arp.operation(s, off), Arp.senderMac(s, off), Arp.senderIp(s, off),
                Arp.targetMac(s, off), Arp.targetIp(s, off));
        return new Decoded(eth, arp, null, null, null, null);
    }

    private static Decoded decodeIpv4(Decoded.EthView eth, MemorySegment s, long off, int available) {
        WireError ipError = Ipv4.validate(s, off, available);
        if (ipError != null && ipError != WireError.IP_BAD_CHECKSUM && ipError != WireError.IP_BAD_FRAGMENT) {
            return new Decoded(eth, null, null, null, null, ipError);
        }
        int ihl = Ipv4.headerLength(s, off);
        int total = Ipv4.totalLength(s, off);
        int src = Ipv4.source(s, off);
        int dst = Ipv4.destination(s, off);
        int protocol = Ipv4.protocol(s, off);
        var ip = new Decoded.IpView(ihl, Ipv4.tos(s, off), total, Ipv4.identification(s, off),
                Ipv4.dontFragment(s, off), Ipv4.moreFragments(s, off), Ipv4.fragmentOffset(s, off),
                Ipv4.ttl(s, off), protocol, Ipv4.checksum(s, off), src, dst,
                ipError != WireError.IP_BAD_CHECKSUM);
        if (Ipv4.isFragment(s, off)) {
            // Transport headers are only read after reassembly.
            return new Decoded(eth, null, ip, null, null, ipError);
        }
        long l4 = off + ihl;
        int l4Length = total - ihl;
        if (protocol == Ipv4.PROTO_UDP) {
            WireError e = Udp.validate(s, l4, l4Length, src, dst);
            WireError first = ipError != null ? ipError : e;
            if (e != null && e != WireError.UDP_BAD_CHECKSUM) {
                return new Decoded(eth, null, ip, null, null, first);
            }
            int len = Udp.length(s, l4);
            var udp = new Decoded.UdpView(Udp.sourcePort(s, l4), Udp.destinationPort(s, l4), len,
                    Udp.checksum(s, l4), e == null,
                    Frames.hex(s, l4 + Udp.HEADER_LENGTH, len - Udp.HEADER_LENGTH));
            return new Decoded(eth, null, ip, udp, null, first);
        }
        if (protocol == Ipv4.PROTO_ICMP) {
            WireError e = Icmp.validate(s, l4, l4Length);
            WireError first = ipError != null ? ipError : e;
            if (e != null && e != WireError.ICMP_BAD_CHECKSUM) {
                return new Decoded(eth, null, ip, null, null, first);
            }
            var icmp = new Decoded.IcmpView(Icmp.type(s, l4), Icmp.code(s, l4), Bytes.u16(s, l4 + 2), e == null,
                    Frames.hex(s, l4 + 4, l4Length - 4));
            return new Decoded(eth, null, ip, null, icmp, first);
        }
        return new Decoded(eth, null, ip, null, null, ipError);
    }
}
