package io.slipstream.wire;

import static io.slipstream.wire.UdpFrameSpec.IP;
import static io.slipstream.wire.UdpFrameSpec.L4;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HexFormat;
import java.util.List;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.LongRange;
import net.jqwik.api.constraints.Size;
import org.pcap4j.packet.ArpPacket;
import org.pcap4j.packet.Dot1qVlanTagPacket;
import org.pcap4j.packet.EthernetPacket;
import org.pcap4j.packet.IcmpV4CommonPacket;
import org.pcap4j.packet.IcmpV4EchoPacket;
import org.pcap4j.packet.IcmpV4EchoReplyPacket;
import org.pcap4j.packet.IpV4NoOperationOption;
import org.pcap4j.packet.IpV4Packet;
import org.pcap4j.packet.IpV4Rfc791Tos;
import org.pcap4j.packet.Packet;
import org.pcap4j.packet.UdpPacket;
import org.pcap4j.packet.UnknownPacket;
import org.pcap4j.packet.namednumber.ArpHardwareType;
import org.pcap4j.packet.namednumber.ArpOperation;
import org.pcap4j.packet.namednumber.EtherType;
import org.pcap4j.packet.namednumber.IcmpV4Code;
import org.pcap4j.packet.namednumber.IcmpV4Type;
import org.pcap4j.packet.namednumber.IpNumber;
import org.pcap4j.packet.namednumber.IpVersion;
import org.pcap4j.packet.namednumber.UdpPort;

/**
 * Our codecs against Pcap4J, an independent implementation: frames we write must parse in
 * Pcap4J to the same fields with valid checksums, and frames Pcap4J builds (with its own
 * checksum and length computation) must parse in ours to the same fields and validate.
 */
class Pcap4jCrossCheckProperties {

    @Provide
    Arbitrary<UdpFrameSpec> udpFrames() {
        // Pcap4J decodes the payload by well-known port, and its GTP decoder (ports 2123 and
        // 2152) throws on payloads that are not GTP instead of keeping them raw: its own
        // limit, not a difference in UDP, so those ports are left to the other properties.
        return UdpFrameSpec.arbitrary().filter(f -> !gtp(f.srcPort()) && !gtp(f.dstPort()));
    }

    private static boolean gtp(int port) {
        return port == 2123 || port == 2152;
    }

    // ---- written by us, read by Pcap4J ----

    /** @param padToMinimum pad the frame to 60 bytes as a driver does; Pcap4J must see it as padding */
    @Property
    void ourUdpFramesParseAlikeInPcap4j(@ForAll("udpFrames") UdpFrameSpec spec, @ForAll boolean padToMinimum) {
        byte[] frame = new byte[padToMinimum ? Math.max(Ethernet.MIN_FRAME_LENGTH, spec.frameLength()) : spec.frameLength()];
        MemorySegment s = MemorySegment.ofArray(frame);
        spec.write(s, 0);

        EthernetPacket ether = Pcap4jDecoder.parse(frame);
        IpV4Packet ip = ether.get(IpV4Packet.class);
        UdpPacket udp = ether.get(UdpPacket.class);
        assertTrue(ip.getHeader().hasValidChecksum(false), "Pcap4J: IPv4 header checksum");
        assertTrue(udp.hasValidChecksum(ip.getHeader().getSrcAddr(), ip.getHeader().getDstAddr(), false),
                "Pcap4J: UDP checksum");

        Decoded theirs = Pcap4jDecoder.decode(frame);
        Decoded ours = FrameDecoder.decode(s, frame.length);
        assertNull(ours.error());
        assertEquals(spec.expectedEth(), theirs.eth());
        assertEquals(ours.eth(), theirs.eth());
        assertEquals(ours.ip(), theirs.ip());
        assertEquals(ours.udp(), theirs.udp());
        assertEquals(spec.srcPort(), theirs.udp().sourcePort());
        assertEquals(spec.dstPort(), theirs.udp().destinationPort());
        assertEquals(spec.payloadHex(), theirs.udp().payloadHex());
        assertEquals(spec.tos(), theirs.ip().tos());
        assertEquals(spec.ttl(), theirs.ip().ttl());
        assertEquals(spec.identification(), theirs.ip().identification());
        assertEquals(spec.srcIp(), theirs.ip().source());
        assertEquals(spec.dstIp(), theirs.ip().destination());
    }

    @Property
    void setTotalLengthChecksumIsValidInPcap4j(@ForAll("udpFrames") UdpFrameSpec spec, @ForAll @IntRange(max = 64) int trailer) {
        byte[] frame = new byte[spec.frameLength() + trailer];
        MemorySegment s = MemorySegment.ofArray(frame);
        spec.write(s, 0);
        // Grow the datagram by the trailer, as IP does when it appends to a packet in place.
        Ipv4.setTotalLength(s, spec.linkHeaderLength(), spec.ipTotalLength() + trailer);
        IpV4Packet ip = Pcap4jDecoder.parse(frame).get(IpV4Packet.class);
        assertEquals(spec.ipTotalLength() + trailer, ip.getHeader().getTotalLengthAsInt());
        assertTrue(ip.getHeader().hasValidChecksum(false));
    }

    @Property
    void ourIcmpEchoParsesAlikeInPcap4j(@ForAll @IntRange(max = 0xFFFF) int id, @ForAll @IntRange(max = 0xFFFF) int seq,
                                        @ForAll @Size(max = 1472) byte[] data, @ForAll boolean turnIntoReply,
                                        @ForAll int src, @ForAll int dst) {
        int icmpLength = Icmp.HEADER_LENGTH + data.length;
        byte[] frame = new byte[L4 + icmpLength];
        MemorySegment s = MemorySegment.ofArray(frame);
        MemorySegment.copy(MemorySegment.ofArray(data), 0, s, L4 + Icmp.HEADER_LENGTH, data.length);
        Icmp.writeHeader(s, L4, Icmp.TYPE_ECHO_REQUEST, 0, (id << 16) | seq);
        Icmp.finish(s, L4, icmpLength);
        if (turnIntoReply) {
            Icmp.requestToReply(s, L4);
        }
        Ipv4.write(s, IP, 0, Ipv4.MIN_HEADER_LENGTH + icmpLength, 7, Ipv4.FLAG_DF, 64, Ipv4.PROTO_ICMP, src, dst);
        Ethernet.write(s, 0, 0x0200_0000_0002L, 0x0200_0000_0001L, Ethernet.TYPE_IPV4);

        EthernetPacket ether = Pcap4jDecoder.parse(frame);
        IcmpV4CommonPacket icmp = ether.get(IcmpV4CommonPacket.class);
        assertTrue(icmp.hasValidChecksum(false), "Pcap4J: ICMP checksum");
        if (turnIntoReply) {
            IcmpV4EchoReplyPacket.IcmpV4EchoReplyHeader h = ether.get(IcmpV4EchoReplyPacket.class).getHeader();
            assertEquals(id, h.getIdentifierAsInt());
            assertEquals(seq, h.getSequenceNumberAsInt());
        } else {
            IcmpV4EchoPacket.IcmpV4EchoHeader h = ether.get(IcmpV4EchoPacket.class).getHeader();
            assertEquals(id, h.getIdentifierAsInt());
            assertEquals(seq, h.getSequenceNumberAsInt());
        }
        Decoded ours = FrameDecoder.decode(s, frame.length);
        assertNull(ours.error());
        assertEquals(ours.icmp(), Pcap4jDecoder.decode(frame).icmp());
    }

    /** A fragmentation-needed error (RFC 1191 §4) quoting a datagram we sent. */
    @Property
    void ourIcmpErrorsParseAlikeInPcap4j(@ForAll("udpFrames") UdpFrameSpec quoted,
                                         @ForAll @IntRange(min = 68, max = 0xFFFF) int mtu) {
        byte[] original = new byte[quoted.frameLength()];
        quoted.write(MemorySegment.ofArray(original), 0);
        int quoteLength = Ipv4.MIN_HEADER_LENGTH + Icmp.QUOTE_PAYLOAD;
        int icmpLength = Icmp.HEADER_LENGTH + quoteLength;
        byte[] frame = new byte[L4 + icmpLength];
        MemorySegment s = MemorySegment.ofArray(frame);
        System.arraycopy(original, quoted.linkHeaderLength(), frame, L4 + Icmp.HEADER_LENGTH, quoteLength);
        Icmp.writeHeader(s, L4, Icmp.TYPE_DEST_UNREACHABLE, Icmp.CODE_FRAGMENTATION_NEEDED, mtu);
        Icmp.finish(s, L4, icmpLength);
        Ipv4.write(s, IP, 0, Ipv4.MIN_HEADER_LENGTH + icmpLength, 9, 0, 64, Ipv4.PROTO_ICMP,
                quoted.dstIp(), quoted.srcIp());
        Ethernet.write(s, 0, quoted.srcMac(), quoted.dstMac(), Ethernet.TYPE_IPV4);

        EthernetPacket ether = Pcap4jDecoder.parse(frame);
        IcmpV4CommonPacket icmp = ether.get(IcmpV4CommonPacket.class);
        assertTrue(icmp.hasValidChecksum(false), "Pcap4J: ICMP checksum");
        assertEquals(IcmpV4Type.DESTINATION_UNREACHABLE, icmp.getHeader().getType());
        assertEquals(Icmp.CODE_FRAGMENTATION_NEEDED, icmp.getHeader().getCode().value() & 0xFF);
        assertEquals(mtu, Icmp.nextHopMtu(s, L4));
        Decoded ours = FrameDecoder.decode(s, frame.length);
        assertNull(ours.error());
        assertEquals(ours.icmp(), Pcap4jDecoder.decode(frame).icmp());
    }

    @Property
    void ourArpParsesAlikeInPcap4j(@ForAll @IntRange(min = 1, max = 2) int op,
                                   @ForAll @LongRange(max = 0xFFFF_FFFF_FFFFL) long senderMac, @ForAll int senderIp,
                                   @ForAll @LongRange(max = 0xFFFF_FFFF_FFFFL) long targetMac, @ForAll int targetIp) {
        byte[] frame = new byte[Ethernet.MIN_FRAME_LENGTH];
        MemorySegment s = MemorySegment.ofArray(frame);
        Ethernet.write(s, 0, MacAddress.BROADCAST, senderMac, Ethernet.TYPE_ARP);
        Arp.write(s, IP, op, senderMac, senderIp, targetMac, targetIp);

        ArpPacket arp = Pcap4jDecoder.parse(frame).get(ArpPacket.class);
        assertEquals(ArpHardwareType.ETHERNET, arp.getHeader().getHardwareType());
        assertEquals(EtherType.IPV4, arp.getHeader().getProtocolType());
        Decoded theirs = Pcap4jDecoder.decode(frame);
        assertEquals(new Decoded.ArpView(op, senderMac, senderIp, targetMac, targetIp), theirs.arp());
        assertEquals(FrameDecoder.decode(s, frame.length).arp(), theirs.arp());
    }

    // ---- built by Pcap4J, read by us ----

    /**
     * @param nopOptions IPv4 options (RFC 791 No Operation), so the header is longer than 20
     *     bytes and our transport offset must come from the IHL
     */
    @Property
    void pcap4jUdpFramesParseAlikeInOurs(@ForAll("udpFrames") UdpFrameSpec spec,
                                         @ForAll @IntRange(max = 40) int nopOptions) {
        UdpPacket.Builder udp = new UdpPacket.Builder()
                .srcPort(UdpPort.getInstance((short) spec.srcPort()))
                .dstPort(UdpPort.getInstance((short) spec.dstPort()))
                .srcAddr(Ipv4Address.toInetAddress(spec.srcIp()))
                .dstAddr(Ipv4Address.toInetAddress(spec.dstIp()))
                .payloadBuilder(payload(spec.payload()))
                .correctChecksumAtBuild(true)
                .correctLengthAtBuild(true);
        List<IpV4Packet.IpV4Option> options = new ArrayList<>(Collections.nCopies(nopOptions,
                (IpV4Packet.IpV4Option) IpV4NoOperationOption.getInstance()));
        IpV4Packet.Builder ip = new IpV4Packet.Builder()
                .version(IpVersion.IPV4)
                .tos(IpV4Rfc791Tos.newInstance((byte) spec.tos()))
                .identification((short) spec.identification())
                .dontFragmentFlag((spec.flagsAndOffset() & Ipv4.FLAG_DF) != 0)
                .ttl((byte) spec.ttl())
                .protocol(IpNumber.UDP)
                .srcAddr(Ipv4Address.toInetAddress(spec.srcIp()))
                .dstAddr(Ipv4Address.toInetAddress(spec.dstIp()))
                .options(options)
                .paddingAtBuild(true)
                .correctChecksumAtBuild(true)
                .correctLengthAtBuild(true)
                .payloadBuilder(udp);
        byte[] frame = ethernet(spec, EtherType.IPV4, ip).build().getRawData();
        int hl = Ipv4.MIN_HEADER_LENGTH + (nopOptions + 3) / 4 * 4;

        Decoded ours = FrameDecoder.decode(MemorySegment.ofArray(frame), frame.length);
        assertNull(ours.error(), () -> "our validate rejects " + HexFormat.of().formatHex(frame));
        assertEquals(spec.expectedEth(), ours.eth());
        assertEquals(new Decoded.IpView(hl, spec.tos(), hl + Udp.HEADER_LENGTH + spec.payload().length,
                spec.identification(), (spec.flagsAndOffset() & Ipv4.FLAG_DF) != 0, false, 0, spec.ttl(),
                Ipv4.PROTO_UDP, ours.ip().checksum(), spec.srcIp(), spec.dstIp(), true), ours.ip());
        assertEquals(new Decoded.UdpView(spec.srcPort(), spec.dstPort(), Udp.HEADER_LENGTH + spec.payload().length,
                ours.udp().checksum(), true, spec.payloadHex()), ours.udp());
        Decoded theirs = Pcap4jDecoder.decode(frame);
        assertEquals(theirs.ip(), ours.ip());
        assertEquals(theirs.udp(), ours.udp());
    }

    @Property
    void pcap4jIcmpEchoParsesAlikeInOurs(@ForAll @IntRange(max = 0xFFFF) int id, @ForAll @IntRange(max = 0xFFFF) int seq,
                                         @ForAll @Size(max = 1472) byte[] data, @ForAll boolean reply,
                                         @ForAll int src, @ForAll int dst) {
        Packet.Builder echo = reply
                ? new IcmpV4EchoReplyPacket.Builder().identifier((short) id).sequenceNumber((short) seq)
                        .payloadBuilder(payload(data))
                : new IcmpV4EchoPacket.Builder().identifier((short) id).sequenceNumber((short) seq)
                        .payloadBuilder(payload(data));
        IcmpV4CommonPacket.Builder icmp = new IcmpV4CommonPacket.Builder()
                .type(reply ? IcmpV4Type.ECHO_REPLY : IcmpV4Type.ECHO)
                .code(IcmpV4Code.NO_CODE)
                .payloadBuilder(echo)
                .correctChecksumAtBuild(true);
        IpV4Packet.Builder ip = new IpV4Packet.Builder()
                .version(IpVersion.IPV4)
                .tos(IpV4Rfc791Tos.newInstance((byte) 0))
                .ttl((byte) 64)
                .protocol(IpNumber.ICMPV4)
                .srcAddr(Ipv4Address.toInetAddress(src))
                .dstAddr(Ipv4Address.toInetAddress(dst))
                .correctChecksumAtBuild(true)
                .correctLengthAtBuild(true)
                .payloadBuilder(icmp);
        byte[] frame = new EthernetPacket.Builder()
                .dstAddr(Pcap4jDecoder.mac(2L)).srcAddr(Pcap4jDecoder.mac(1L)).type(EtherType.IPV4)
                .payloadBuilder(ip).paddingAtBuild(true).build().getRawData();

        MemorySegment s = MemorySegment.ofArray(frame);
        Decoded ours = FrameDecoder.decode(s, frame.length);
        assertNull(ours.error());
        assertEquals(reply ? Icmp.TYPE_ECHO_REPLY : Icmp.TYPE_ECHO_REQUEST, ours.icmp().type());
        assertEquals(id, Icmp.echoId(s, L4));
        assertEquals(seq, Icmp.echoSequence(s, L4));
        assertEquals(Pcap4jDecoder.decode(frame).icmp(), ours.icmp());
    }

    @Property
    void pcap4jArpParsesAlikeInOurs(@ForAll boolean reply,
                                    @ForAll @LongRange(max = 0xFFFF_FFFF_FFFFL) long senderMac, @ForAll int senderIp,
                                    @ForAll @LongRange(max = 0xFFFF_FFFF_FFFFL) long targetMac, @ForAll int targetIp) {
        ArpPacket.Builder arp = new ArpPacket.Builder()
                .hardwareType(ArpHardwareType.ETHERNET)
                .protocolType(EtherType.IPV4)
                .hardwareAddrLength((byte) 6)
                .protocolAddrLength((byte) 4)
                .operation(reply ? ArpOperation.REPLY : ArpOperation.REQUEST)
                .srcHardwareAddr(Pcap4jDecoder.mac(senderMac))
                .srcProtocolAddr(Ipv4Address.toInetAddress(senderIp))
                .dstHardwareAddr(Pcap4jDecoder.mac(targetMac))
                .dstProtocolAddr(Ipv4Address.toInetAddress(targetIp));
        byte[] frame = new EthernetPacket.Builder()
                .dstAddr(Pcap4jDecoder.mac(MacAddress.BROADCAST)).srcAddr(Pcap4jDecoder.mac(senderMac))
                .type(EtherType.ARP).payloadBuilder(arp).paddingAtBuild(true).build().getRawData();

        Decoded ours = FrameDecoder.decode(MemorySegment.ofArray(frame), frame.length);
        assertNull(ours.error());
        assertEquals(new Decoded.ArpView(reply ? Arp.OP_REPLY : Arp.OP_REQUEST, senderMac, senderIp, targetMac, targetIp),
                ours.arp());
        assertEquals(Ethernet.MIN_FRAME_LENGTH, frame.length);
    }

    /** The VLAN tag Pcap4J writes is the one our codec reads, and the reverse. */
    @Property
    void vlanTagsAgree(@ForAll @IntRange(max = 7) int priority, @ForAll boolean cfi, @ForAll @IntRange(max = 4095) int vid) {
        Dot1qVlanTagPacket.Builder tag = new Dot1qVlanTagPacket.Builder()
                .priority((byte) priority).cfi(cfi).vid((short) vid).type(EtherType.ARP)
                .payloadBuilder(payload(new byte[Arp.LENGTH]));
        byte[] frame = new EthernetPacket.Builder()
                .dstAddr(Pcap4jDecoder.mac(3L)).srcAddr(Pcap4jDecoder.mac(4L)).type(EtherType.DOT1Q_VLAN_TAGGED_FRAMES)
                .payloadBuilder(tag).paddingAtBuild(true).build().getRawData();
        MemorySegment theirs = MemorySegment.ofArray(frame);
        assertTrue(Ethernet.isTagged(theirs, 0));
        assertEquals(18, Ethernet.headerLength(theirs, 0, frame.length));
        assertEquals(vid, Ethernet.vlanId(theirs, 0));
        assertEquals(Ethernet.TYPE_ARP, Ethernet.payloadType(theirs, 0));

        byte[] ours = new byte[18 + Arp.LENGTH];
        Frames.writeTaggedHeader(MemorySegment.ofArray(ours), 0, 3L, 4L, priority, cfi, vid, Ethernet.TYPE_ARP);
        Dot1qVlanTagPacket parsed = Pcap4jDecoder.parse(ours).get(Dot1qVlanTagPacket.class);
        assertInstanceOf(Dot1qVlanTagPacket.class, parsed);
        assertEquals(vid, parsed.getHeader().getVidAsInt());
        assertEquals(priority, parsed.getHeader().getPriority());
        assertEquals(cfi, parsed.getHeader().getCfi());
        assertArrayEquals(Arrays.copyOf(frame, 18), Arrays.copyOf(ours, 18));
    }

    private static EthernetPacket.Builder ethernet(UdpFrameSpec spec, EtherType type, Packet.Builder payload) {
        EthernetPacket.Builder ether = new EthernetPacket.Builder()
                .dstAddr(Pcap4jDecoder.mac(spec.dstMac()))
                .srcAddr(Pcap4jDecoder.mac(spec.srcMac()))
                .paddingAtBuild(true);
        if (spec.vlanId() < 0) {
            return ether.type(type).payloadBuilder(payload);
        }
        return ether.type(EtherType.DOT1Q_VLAN_TAGGED_FRAMES).payloadBuilder(new Dot1qVlanTagPacket.Builder()
                .priority((byte) 0).cfi(false).vid((short) spec.vlanId()).type(type).payloadBuilder(payload));
    }

    /** Pcap4J refuses an empty raw payload; no payload builder means none. */
    private static UnknownPacket.Builder payload(byte[] data) {
        return data.length == 0 ? null : new UnknownPacket.Builder().rawData(data);
    }
}
