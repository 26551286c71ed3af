package io.slipstream.wire;

import java.lang.foreign.MemorySegment;
import java.util.HexFormat;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.Tuple;

/**
 * Every field of an Ethernet (optionally 802.1Q-tagged) / IPv4 / UDP frame, for properties
 * that write frames with our codecs and read them back with ours or Pcap4J's.
 *
 * @param vlanId 0..4095 for a tagged frame, -1 for an untagged one
 * @param flagsAndOffset DF/MF and the fragment offset in 8-byte units, as {@link Ipv4#write} takes it
 */
record UdpFrameSpec(long dstMac, long srcMac, int vlanId, int tos, int identification, int flagsAndOffset,
                    int ttl, int srcIp, int dstIp, int srcPort, int dstPort, byte[] payload) {

    /** Largest UDP payload in a 1500-byte IP packet. */
    static final int MAX_PAYLOAD = 1500 - Ipv4.MIN_HEADER_LENGTH - Udp.HEADER_LENGTH;
    /** Where the IP header of an untagged frame starts. */
    static final int IP = Ethernet.HEADER_LENGTH;
    /** Where the transport header of an untagged frame without IP options starts. */
    static final int L4 = IP + Ipv4.MIN_HEADER_LENGTH;

    /** Unfragmented frames (DF set or not) with any addresses, ports and payload. */
    static Arbitrary<UdpFrameSpec> arbitrary() {
        Arbitrary<Long> mac = Arbitraries.longs().between(0, 0xFFFF_FFFF_FFFFL);
        Arbitrary<Integer> vlan = Arbitraries.oneOf(Arbitraries.just(-1), Arbitraries.integers().between(0, 4095));
        Arbitrary<Integer> u8 = Arbitraries.integers().between(0, 0xFF);
        Arbitrary<Integer> u16 = Arbitraries.integers().between(0, 0xFFFF);
        Arbitrary<Integer> flags = Arbitraries.of(0, Ipv4.FLAG_DF);
        Arbitrary<Integer> ttl = Arbitraries.integers().between(1, 255);
        Arbitrary<Integer> addr = Arbitraries.integers();
        Arbitrary<byte[]> payload = Arbitraries.bytes().array(byte[].class).ofMaxSize(MAX_PAYLOAD);
        var link = Combinators.combine(mac, mac, vlan).as(Tuple::of);
        var ip = Combinators.combine(u8, u16, flags, ttl, addr, addr).as(Tuple::of);
        var udp = Combinators.combine(u16, u16, payload).as(Tuple::of);
        return Combinators.combine(link, ip, udp).as((l, i, u) -> new UdpFrameSpec(
                l.get1(), l.get2(), l.get3(), i.get1(), i.get2(), i.get3(), i.get4(), i.get5(), i.get6(),
                u.get1(), u.get2(), u.get3()));
    }

    int linkHeaderLength() {
        return vlanId < 0 ? Ethernet.HEADER_LENGTH : Ethernet.HEADER_LENGTH + Ethernet.VLAN_TAG_LENGTH;
    }

    int ipTotalLength() {
        return Ipv4.MIN_HEADER_LENGTH + Udp.HEADER_LENGTH + payload.length;
    }

    int frameLength() {
        return linkHeaderLength() + ipTotalLength();
    }

    /** Writes the frame at {@code off} the way the send path does: payload, then headers. */
    int write(MemorySegment s, long off) {
        int ipOff = linkHeaderLength();
        int udpOff = ipOff + Ipv4.MIN_HEADER_LENGTH;
        MemorySegment.copy(MemorySegment.ofArray(payload), 0, s, off + udpOff + Udp.HEADER_LENGTH, payload.length);
        Udp.write(s, off + udpOff, srcPort, dstPort, payload.length, srcIp, dstIp);
        Ipv4.write(s, off + ipOff, tos, ipTotalLength(), identification, flagsAndOffset, ttl, Ipv4.PROTO_UDP,
                srcIp, dstIp);
        Frames.writeLinkHeader(s, off, dstMac, srcMac, vlanId, Ethernet.TYPE_IPV4);
        return frameLength();
    }

    /** The views a correct decoder must report for this frame (checksum values aside). */
    Decoded.EthView expectedEth() {
        return new Decoded.EthView(dstMac, srcMac, linkHeaderLength(), Ethernet.TYPE_IPV4, vlanId);
    }

    String payloadHex() {
        return HexFormat.of().formatHex(payload);
    }

    @Override
    public String toString() {
        return "UdpFrameSpec[vlan=" + vlanId + ", " + Ipv4Address.format(srcIp) + ":" + srcPort + " -> "
                + Ipv4Address.format(dstIp) + ":" + dstPort + ", tos=" + tos + ", id=" + identification
                + ", flags=" + Integer.toHexString(flagsAndOffset) + ", ttl=" + ttl + ", payload=" + payloadHex() + "]";
    }
}
