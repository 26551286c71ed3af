package io.slipstream.wire;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.SplittableRandom;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.LongRange;
import net.jqwik.api.constraints.Size;

/** Every codec's {@code write} read back field by field through its accessors. */
class CodecRoundTripProperties {

    @Provide
    Arbitrary<UdpFrameSpec> udpFrames() {
        return UdpFrameSpec.arbitrary();
    }

    @Property
    void ethernetHeaderRoundTrips(@ForAll @LongRange(max = 0xFFFF_FFFF_FFFFL) long dst,
                                  @ForAll @LongRange(max = 0xFFFF_FFFF_FFFFL) long src,
                                  @ForAll @IntRange(max = 0xFFFF) int type, @ForAll @IntRange(max = 7) int at) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment s = arena.allocate(at + Ethernet.HEADER_LENGTH);
            assertEquals(Ethernet.HEADER_LENGTH, Ethernet.write(s, at, dst, src, type));
            assertEquals(dst, Ethernet.destination(s, at));
            assertEquals(src, Ethernet.source(s, at));
            assertEquals(type, Ethernet.outerType(s, at));
            assertEquals(type == Ethernet.TYPE_VLAN, Ethernet.isTagged(s, at));
            if (type != Ethernet.TYPE_VLAN) {
                assertEquals(Ethernet.HEADER_LENGTH, Ethernet.headerLength(s, at, Ethernet.HEADER_LENGTH));
                assertEquals(type, Ethernet.payloadType(s, at));
            }
            Ethernet.setDestination(s, at, src);
            assertEquals(src, Ethernet.destination(s, at));
            assertEquals(src, Ethernet.source(s, at));
        }
    }

    @Property
    void taggedEthernetHeaderReadsThroughTheTag(@ForAll @LongRange(max = 0xFFFF_FFFF_FFFFL) long dst,
                                                @ForAll @LongRange(max = 0xFFFF_FFFF_FFFFL) long src,
                                                @ForAll @IntRange(max = 7) int priority, @ForAll boolean dei,
                                                @ForAll @IntRange(max = 4095) int vlanId,
                                                @ForAll @IntRange(max = 0xFFFF) int innerType) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment s = arena.allocate(18);
            assertEquals(18, Frames.writeTaggedHeader(s, 0, dst, src, priority, dei, vlanId, innerType));
            assertTrue(Ethernet.isTagged(s, 0));
            assertEquals(Ethernet.TYPE_VLAN, Ethernet.outerType(s, 0));
            assertEquals(18, Ethernet.headerLength(s, 0, 18));
            assertEquals(-1, Ethernet.headerLength(s, 0, 17));
            assertEquals(innerType, Ethernet.payloadType(s, 0));
            assertEquals(vlanId, Ethernet.vlanId(s, 0));
            assertEquals(dst, Ethernet.destination(s, 0));
            assertEquals(src, Ethernet.source(s, 0));
        }
    }

    @Example
    void shortFramesHaveNoHeader() {
        MemorySegment s = MemorySegment.ofArray(new byte[18]);
        Ethernet.write(s, 0, MacAddress.BROADCAST, 2, Ethernet.TYPE_IPV4);
        assertEquals(-1, Ethernet.headerLength(s, 0, 13));
        assertEquals(14, Ethernet.headerLength(s, 0, 14));
    }

    @Property
    void arpRoundTrips(@ForAll @IntRange(min = 1, max = 2) int op,
                       @ForAll @LongRange(max = 0xFFFF_FFFF_FFFFL) long senderMac, @ForAll int senderIp,
                       @ForAll @LongRange(max = 0xFFFF_FFFF_FFFFL) long targetMac, @ForAll int targetIp,
                       @ForAll @IntRange(max = 7) int at) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment s = arena.allocate(at + Arp.LENGTH);
            assertEquals(Arp.LENGTH, Arp.write(s, at, op, senderMac, senderIp, targetMac, targetIp));
            assertNull(Arp.validate(s, at, Arp.LENGTH));
            assertEquals(op, Arp.operation(s, at));
            assertEquals(senderMac, Arp.senderMac(s, at));
            assertEquals(senderIp, Arp.senderIp(s, at));
            assertEquals(targetMac, Arp.targetMac(s, at));
            assertEquals(targetIp, Arp.targetIp(s, at));
        }
    }

    @Property
    void ipv4HeaderRoundTrips(@ForAll @IntRange(max = 255) int tos,
                              @ForAll @IntRange(min = 20, max = 0xFFFF) int totalLength,
                              @ForAll @IntRange(max = 0xFFFF) int id, @ForAll boolean df, @ForAll boolean mf,
                              @ForAll @IntRange(max = 0x1FFF) int offsetUnits, @ForAll @IntRange(max = 255) int ttl,
                              @ForAll @IntRange(max = 255) int protocol, @ForAll int src, @ForAll int dst,
                              @ForAll @IntRange(max = 7) int at) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment s = arena.allocate(at + Ipv4.MIN_HEADER_LENGTH);
            int flags = (df ? Ipv4.FLAG_DF : 0) | (mf ? Ipv4.FLAG_MF : 0) | offsetUnits;
            assertEquals(20, Ipv4.write(s, at, tos, totalLength, id, flags, ttl, protocol, src, dst));
            assertEquals(20, Ipv4.headerLength(s, at));
            assertEquals(tos, Ipv4.tos(s, at));
            assertEquals(totalLength, Ipv4.totalLength(s, at));
            assertEquals(id, Ipv4.identification(s, at));
            assertEquals(df, Ipv4.dontFragment(s, at));
            assertEquals(mf, Ipv4.moreFragments(s, at));
            assertEquals(offsetUnits * 8, Ipv4.fragmentOffset(s, at));
            assertEquals(mf || offsetUnits != 0, Ipv4.isFragment(s, at));
            assertEquals(ttl, Ipv4.ttl(s, at));
            assertEquals(protocol, Ipv4.protocol(s, at));
            assertEquals(src, Ipv4.source(s, at));
            assertEquals(dst, Ipv4.destination(s, at));
            assertTrue(InternetChecksum.verifies(InternetChecksum.sum(s, at, 20, 0)));
            assertEquals(0x4, Bytes.u8(s, at) >>> 4);
        }
    }

    @Property
    void setTotalLengthKeepsTheChecksumRight(@ForAll("udpFrames") UdpFrameSpec spec,
                                             @ForAll @IntRange(min = 20, max = 0xFFFF) int newLength) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment s = arena.allocate(spec.frameLength());
            spec.write(s, 0);
            long ip = spec.linkHeaderLength();
            Ipv4.setTotalLength(s, ip, newLength);
            assertEquals(newLength, Ipv4.totalLength(s, ip));
            assertTrue(InternetChecksum.verifies(InternetChecksum.sum(s, ip, 20, 0)));
            int adjusted = Ipv4.checksum(s, ip);
            Frames.refreshIpChecksum(s, ip);
            assertEquals(Ipv4.checksum(s, ip), adjusted, "incremental and full checksum differ");
        }
    }

    @Property
    void udpFrameRoundTrips(@ForAll("udpFrames") UdpFrameSpec spec, @ForAll @IntRange(max = 7) int at) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment s = arena.allocate(at + spec.frameLength()).asSlice(at);
            assertEquals(spec.frameLength(), spec.write(s, 0));
            long ip = spec.linkHeaderLength();
            long udp = ip + Ipv4.MIN_HEADER_LENGTH;
            assertNull(Ipv4.validate(s, ip, spec.ipTotalLength()));
            int udpLength = Udp.HEADER_LENGTH + spec.payload().length;
            assertNull(Udp.validate(s, udp, udpLength, spec.srcIp(), spec.dstIp()));
            assertEquals(spec.srcPort(), Udp.sourcePort(s, udp));
            assertEquals(spec.dstPort(), Udp.destinationPort(s, udp));
            assertEquals(udpLength, Udp.length(s, udp));
            assertTrue(Udp.checksum(s, udp) != 0, "a computed zero is sent as 0xFFFF (RFC 768)");
            long acc = InternetChecksum.pseudoHeaderSum(spec.srcIp(), spec.dstIp(), Ipv4.PROTO_UDP, udpLength);
            assertTrue(InternetChecksum.verifies(InternetChecksum.sum(s, udp, udpLength, acc)));

            Decoded d = FrameDecoder.decode(s, spec.frameLength());
            assertNull(d.error());
            assertEquals(spec.expectedEth(), d.eth());
            assertEquals(new Decoded.IpView(20, spec.tos(), spec.ipTotalLength(), spec.identification(),
                    (spec.flagsAndOffset() & Ipv4.FLAG_DF) != 0, false, 0, spec.ttl(), Ipv4.PROTO_UDP,
                    Ipv4.checksum(s, ip), spec.srcIp(), spec.dstIp(), true), d.ip());
            assertEquals(spec.payloadHex(), d.udp().payloadHex());
        }
    }

    /** Payloads chosen so the UDP sum comes out as zero, which must go out as 0xFFFF. */
    @Example
    void udpChecksumZeroIsSentAsAllOnes() {
        MemorySegment s = MemorySegment.ofArray(new byte[Udp.HEADER_LENGTH + 2]);
        int src = 0x0A000001;
        int dst = 0x0A000002;
        int len = Udp.HEADER_LENGTH + 2;
        // Choose the payload word so that the sum of pseudo-header, header and payload is 0xFFFF.
        long rest = InternetChecksum.pseudoHeaderSum(src, dst, Ipv4.PROTO_UDP, len) + 1 + 2 + len;
        int word = ~InternetChecksum.fold(rest) & 0xFFFF;
        Bytes.putU16(s, Udp.HEADER_LENGTH, word);
        Udp.write(s, 0, 1, 2, 2, src, dst);
        assertEquals(0xFFFF, Udp.checksum(s, 0));
        assertNull(Udp.validate(s, 0, len, src, dst));
    }

    @Property
    void icmpEchoRoundTrips(@ForAll @IntRange(max = 0xFFFF) int id, @ForAll @IntRange(max = 0xFFFF) int seq,
                            @ForAll @Size(max = 1472) byte[] data, @ForAll @IntRange(max = 7) int at) {
        try (Arena arena = Arena.ofConfined()) {
            int length = Icmp.HEADER_LENGTH + data.length;
            MemorySegment s = arena.allocate(at + length);
            MemorySegment.copy(MemorySegment.ofArray(data), 0, s, at + Icmp.HEADER_LENGTH, data.length);
            Icmp.writeHeader(s, at, Icmp.TYPE_ECHO_REQUEST, 0, (id << 16) | seq);
            Icmp.finish(s, at, length);
            assertNull(Icmp.validate(s, at, length));
            assertEquals(Icmp.TYPE_ECHO_REQUEST, Icmp.type(s, at));
            assertEquals(0, Icmp.code(s, at));
            assertEquals(id, Icmp.echoId(s, at));
            assertEquals(seq, Icmp.echoSequence(s, at));
            assertEquals(Frames.hex(MemorySegment.ofArray(data), 0, data.length),
                    Frames.hex(s, at + Icmp.HEADER_LENGTH, data.length));

            Icmp.requestToReply(s, at);
            assertNull(Icmp.validate(s, at, length), "the reply's incrementally fixed checksum verifies");
            assertEquals(Icmp.TYPE_ECHO_REPLY, Icmp.type(s, at));
            assertEquals(0, Icmp.code(s, at));
            assertEquals(id, Icmp.echoId(s, at));
            assertEquals(seq, Icmp.echoSequence(s, at));
        }
    }

    @Example
    void echoReplyWithAllZeroContentVerifies() {
        // Type 0, code 0, id 0, sequence 0, no data: only 0xFFFF verifies (RFC 1624 §3).
        MemorySegment s = MemorySegment.ofArray(new byte[Icmp.HEADER_LENGTH]);
        Icmp.writeHeader(s, 0, Icmp.TYPE_ECHO_REQUEST, 0, 0);
        Icmp.finish(s, 0, Icmp.HEADER_LENGTH);
        Icmp.requestToReply(s, 0);
        assertNull(Icmp.validate(s, 0, Icmp.HEADER_LENGTH));
        assertEquals(0xFFFF, Bytes.u16(s, 2));
    }

    @Property
    void icmpErrorRoundTrips(@ForAll @IntRange(max = 255) int type, @ForAll @IntRange(max = 255) int code,
                             @ForAll @IntRange(max = 0xFFFF) int mtu, @ForAll @Size(max = 68) byte[] quote) {
        int length = Icmp.HEADER_LENGTH + quote.length;
        MemorySegment s = MemorySegment.ofArray(new byte[length]);
        MemorySegment.copy(MemorySegment.ofArray(quote), 0, s, Icmp.HEADER_LENGTH, quote.length);
        Icmp.writeHeader(s, 0, type, code, mtu);
        Icmp.finish(s, 0, length);
        assertNull(Icmp.validate(s, 0, length));
        assertEquals(type, Icmp.type(s, 0));
        assertEquals(code, Icmp.code(s, 0));
        assertEquals(mtu, Icmp.nextHopMtu(s, 0));
        assertEquals(0, Icmp.echoId(s, 0), "RFC 1191 §4: the unused high half stays zero");
    }

    @Property
    void macAddressTextRoundTrips(@ForAll @LongRange(max = 0xFFFF_FFFF_FFFFL) long mac) {
        String text = MacAddress.format(mac);
        assertEquals(17, text.length());
        assertEquals(mac, MacAddress.parse(text));
        assertEquals(mac, MacAddress.parse(text.replace(':', '-').toUpperCase()));
        assertEquals(mac, Pcap4jDecoder.mac(org.pcap4j.util.MacAddress.getByName(text)));
    }

    @Property
    void randomLocalMacIsUnicastAndLocal(@ForAll long seed) {
        long mac = MacAddress.randomLocal(new SplittableRandom(seed));
        assertFalse(MacAddress.isMulticast(mac));
        assertEquals(0x02L, (mac >>> 40) & 0x03L);
        assertEquals(0, mac >>> 48);
    }

    @Example
    void malformedMacAddressesAreRejected() {
        for (String bad : new String[] {"", "02:00:00:00:00", "02:00:00:00:00:00:00", "2:00:00:00:00:00",
                                        "0g:00:00:00:00:00", "02:00:00:00:00:+1"}) {
            assertThrows(IllegalArgumentException.class, () -> MacAddress.parse(bad), bad);
        }
        assertTrue(MacAddress.isMulticast(MacAddress.BROADCAST));
    }

    @Property
    void ipv4AddressTextRoundTrips(@ForAll int addr) {
        String text = Ipv4Address.format(addr);
        assertEquals(addr, Ipv4Address.parse(text));
        assertEquals(addr, Ipv4Address.of(Ipv4Address.toInetAddress(addr)));
        assertEquals(text, Ipv4Address.toInetAddress(addr).getHostAddress());
        assertEquals((addr >>> 28) == 0xE, Ipv4Address.isMulticast(addr));
    }

    @Property
    void maskHasPrefixLengthLeadingOnes(@ForAll @IntRange(max = 32) int prefix) {
        int mask = Ipv4Address.mask(prefix);
        assertEquals(prefix, Integer.bitCount(mask));
        assertEquals(prefix, Integer.numberOfLeadingZeros(~mask));
    }

    @Example
    void malformedIpv4AddressesAreRejected() {
        for (String bad : new String[] {"", "1.2.3", "1.2.3.4.5", "1.2.3.256", "1..3.4", "1.2.3.-4", "1.2.3.4a",
                                        "+1.2.3.4", "1.2.3.0004"}) {
            assertThrows(IllegalArgumentException.class, () -> Ipv4Address.parse(bad), bad);
        }
    }
}
