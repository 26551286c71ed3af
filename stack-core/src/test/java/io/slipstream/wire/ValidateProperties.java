package io.slipstream.wire;

import static io.slipstream.wire.UdpFrameSpec.IP;
import static io.slipstream.wire.UdpFrameSpec.L4;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Assume;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Tuple;
import net.jqwik.api.Provide;
import net.jqwik.api.RandomDistribution;
import net.jqwik.api.statistics.Statistics;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;

/**
 * {@code validate} never throws and says what is wrong: hostile, truncated and mutated frames
 * are decoded through the whole receive path (link, IPv4, UDP/ICMP, ARP) in segments exactly
 * as long as the frame, so any read past the end would throw.
 */
class ValidateProperties {

    @Provide
    Arbitrary<UdpFrameSpec> udpFrames() {
        return UdpFrameSpec.arbitrary();
    }

    @Provide
    Arbitrary<UdpFrameSpec> untaggedUdpFrames() {
        return UdpFrameSpec.arbitrary().filter(f -> f.vlanId() < 0);
    }

    /**
     * Random bytes behind a plausible link header. The EtherType, ARP format, IHL and protocol
     * are biased to the ones we parse, the lengths are either random or made consistent with
     * the frame, and half the time the IPv4 header checksum is made valid, so that garbage
     * reaches the UDP, ICMP and ARP accessors too.
     */
    @Property
    void randomFramesNeverThrow(@ForAll("randomFrames") byte[] frame,
                                @ForAll("etherTypes") int type, @ForAll("ihls") int ihl,
                                @ForAll("protocols") int protocol, @ForAll boolean consistentLengths,
                                @ForAll @IntRange(max = 300) int totalLength, @ForAll @IntRange(max = 300) int udpLength,
                                @ForAll boolean fixIpChecksum) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment s = Frames.copyOf(arena, frame);
            int hl = ihl * 4;
            if (type == Ethernet.TYPE_ARP && frame.length >= IP + 6) {
                Bytes.putU16(s, 12, type);
                Bytes.putU32(s, IP, 0x0001_0800); // Ethernet/IPv4 ARP, the only format read
                Bytes.putU16(s, IP + 4, 0x0604);
            } else if (frame.length >= IP + Math.max(hl, Ipv4.MIN_HEADER_LENGTH) + Udp.HEADER_LENGTH) {
                // Room for the fixed header fields written below even when the IHL claims less.
                Bytes.putU16(s, 12, type);
                Bytes.putU8(s, IP, 0x40 | ihl);
                Bytes.putU16(s, IP + 2, consistentLengths ? frame.length - IP : totalLength);
                Bytes.putU16(s, IP + 6, 0); // not a fragment
                Bytes.putU8(s, IP + 9, protocol);
                Bytes.putU16(s, IP + hl + 4, consistentLengths ? frame.length - IP - hl : udpLength);
                if (fixIpChecksum && hl >= 20) {
                    Frames.refreshIpChecksum(s, IP);
                }
            }
            checkReceivePath(s, frame.length);
        }
        coverDeepLayers("udp", "icmp", "ipv4", "arp");
    }

    @Provide
    Arbitrary<Integer> ihls() {
        return Arbitraries.frequencyOf(Tuple.of(3, Arbitraries.just(5)), Tuple.of(1, Arbitraries.integers().between(0, 15)));
    }

    @Provide
    Arbitrary<byte[]> randomFrames() {
        // Uniform sizes: jqwik's default favours tiny arrays, which stop at the link header.
        return Arbitraries.bytes().array(byte[].class).ofMaxSize(256).withSizeDistribution(RandomDistribution.uniform());
    }

    @Provide
    Arbitrary<Integer> etherTypes() {
        return Arbitraries.frequencyOf(Tuple.of(6, Arbitraries.just(Ethernet.TYPE_IPV4)),
                Tuple.of(1, Arbitraries.of(Ethernet.TYPE_ARP, Ethernet.TYPE_VLAN)),
                Tuple.of(1, Arbitraries.integers().between(0, 0xFFFF)));
    }

    @Provide
    Arbitrary<Integer> protocols() {
        return Arbitraries.frequencyOf(Tuple.of(4, Arbitraries.of(Ipv4.PROTO_UDP, Ipv4.PROTO_ICMP)),
                Tuple.of(1, Arbitraries.integers().between(0, 255)));
    }

    /**
     * Valid UDP frames with a few bytes overwritten, cut short, and (half the time) their IPv4
     * checksum fixed up so the damage reaches the length checks and UDP.
     */
    @Property
    void mutatedFramesNeverThrow(@ForAll("udpFrames") UdpFrameSpec spec,
                                 @ForAll @Size(max = 6) List<@IntRange(max = 0xFFFFFF) Integer> mutations,
                                 @ForAll @IntRange(max = 1600) int cut, @ForAll boolean fixIpChecksum) {
        byte[] frame = new byte[spec.frameLength()];
        spec.write(MemorySegment.ofArray(frame), 0);
        // Each mutation overwrites one byte among the first 64, where the headers are.
        for (int m : mutations) {
            frame[(m >>> 8) % Math.min(frame.length, 64)] = (byte) m;
        }
        if (fixIpChecksum) {
            MemorySegment whole = MemorySegment.ofArray(frame);
            int ip = spec.linkHeaderLength();
            int hl = Ipv4.headerLength(whole, ip);
            if (hl >= 20 && ip + hl <= frame.length) {
                Frames.refreshIpChecksum(whole, ip);
            }
        }
        int length = Math.min(frame.length, cut);
        try (Arena arena = Arena.ofConfined()) {
            byte[] kept = Arrays.copyOf(frame, length);
            checkReceivePath(Frames.copyOf(arena, kept), length);
        }
        coverDeepLayers("udp", "ipv4");
    }

    /** Fails the property when under 2% of its inputs reached each of these layers. */
    private static void coverDeepLayers(String... layers) {
        Statistics.label("reached").coverage(c -> {
            for (String layer : layers) {
                c.check(layer).percentage(p -> p >= 2);
            }
        });
    }

    /**
     * Decodes through every layer and checks the contract each {@code validate} promises to
     * the code that runs after it returned null.
     */
    private static void checkReceivePath(MemorySegment s, int length) {
        Decoded d = FrameDecoder.decode(s, length);
        Statistics.label("reached").collect(d.udp() != null ? "udp" : d.icmp() != null ? "icmp"
                : d.ip() != null ? "ipv4" : d.arp() != null ? "arp" : d.eth() != null ? "ethernet" : "nothing");
        Statistics.label("error").collect(String.valueOf(d.error()));
        if (d.eth() == null) {
            assertEquals(WireError.ETH_TRUNCATED, d.error());
            return;
        }
        int available = length - d.eth().headerLength();
        assertTrue(available >= 0);
        if (d.ip() != null) {
            assertTrue(d.ip().headerLength() >= Ipv4.MIN_HEADER_LENGTH && d.ip().headerLength() <= 60);
            assertTrue(d.ip().headerLength() <= d.ip().totalLength(), "header inside the datagram");
            assertTrue(d.ip().totalLength() <= available, "datagram inside the frame");
        }
        if (d.udp() != null) {
            assertTrue(d.udp().length() >= Udp.HEADER_LENGTH);
            assertTrue(d.udp().length() <= d.ip().totalLength() - d.ip().headerLength());
        }
        if (d.icmp() != null) {
            assertTrue(d.ip().totalLength() - d.ip().headerLength() >= Icmp.HEADER_LENGTH);
        }
        if (d.error() == null && d.ip() != null) {
            assertTrue(d.ip().checksumValid());
            assertTrue(!d.ip().moreFragments() && d.ip().fragmentOffset() == 0
                    || d.ip().fragmentOffset() + d.ip().totalLength() <= Ipv4.MAX_DATAGRAM);
        }
    }

    // ---- IPv4: each malformation yields its own error ----

    @Property
    void anyHeaderBitFlipIsABadChecksum(@ForAll("untaggedUdpFrames") UdpFrameSpec spec,
                                        @ForAll @IntRange(max = 16 * 8) int bit) {
        MemorySegment s = write(spec);
        // Byte 1 (TOS) and bytes 4..19: fields whose change leaves the lengths and version intact.
        int at = bit < 8 ? 1 : 4 + (bit - 8) / 8;
        Bytes.putU8(s, IP + at, Bytes.u8(s, IP + at) ^ (1 << (bit % 8)));
        assertEquals(WireError.IP_BAD_CHECKSUM, Ipv4.validate(s, IP, spec.ipTotalLength()));
    }

    @Property
    void otherVersionsAreRejected(@ForAll("untaggedUdpFrames") UdpFrameSpec spec,
                                  @ForAll @IntRange(max = 15) int version) {
        Assume.that(version != 4);
        MemorySegment s = write(spec);
        Bytes.putU8(s, IP, (version << 4) | 5);
        Frames.refreshIpChecksum(s, IP);
        assertEquals(WireError.IP_BAD_VERSION, Ipv4.validate(s, IP, spec.ipTotalLength()));
    }

    @Property
    void headerLengthBelowTwentyIsRejected(@ForAll("untaggedUdpFrames") UdpFrameSpec spec,
                                           @ForAll @IntRange(max = 4) int ihl) {
        MemorySegment s = write(spec);
        Bytes.putU8(s, IP, 0x40 | ihl);
        assertEquals(WireError.IP_BAD_HEADER_LENGTH, Ipv4.validate(s, IP, spec.ipTotalLength()));
    }

    @Property
    void headerLongerThanDatagramOrFrameIsRejected(@ForAll @IntRange(min = 6, max = 15) int ihl,
                                                   @ForAll @IntRange(min = 20, max = 0xFFFF) int totalLength,
                                                   @ForAll @IntRange(min = 20, max = 60) int available) {
        int hl = ihl * 4;
        Assume.that(hl > Math.min(totalLength, available));
        MemorySegment s = MemorySegment.ofArray(new byte[60]);
        Ipv4.write(s, 0, 0, totalLength, 1, 0, 64, Ipv4.PROTO_UDP, 1, 2);
        Bytes.putU8(s, 0, 0x40 | ihl);
        Frames.refreshIpChecksum(s, 0);
        assertEquals(WireError.IP_BAD_HEADER_LENGTH, Ipv4.validate(s, 0, available));
    }

    @Property
    void datagramLongerThanFrameIsRejected(@ForAll("untaggedUdpFrames") UdpFrameSpec spec,
                                           @ForAll @IntRange(min = 1, max = 1500) int missing) {
        Assume.that(missing <= spec.ipTotalLength() - Ipv4.MIN_HEADER_LENGTH);
        MemorySegment s = write(spec);
        assertEquals(WireError.IP_BAD_TOTAL_LENGTH, Ipv4.validate(s, IP, spec.ipTotalLength() - missing));
    }

    @Property
    void linkPaddingIsAccepted(@ForAll("untaggedUdpFrames") UdpFrameSpec spec, @ForAll @IntRange(max = 64) int pad) {
        byte[] frame = new byte[spec.frameLength() + pad];
        MemorySegment s = MemorySegment.ofArray(frame);
        spec.write(s, 0);
        assertNull(Ipv4.validate(s, IP, spec.ipTotalLength() + pad));
        Decoded d = FrameDecoder.decode(s, frame.length);
        assertNull(d.error());
        assertEquals(spec.payloadHex(), d.udp().payloadHex(), "padding is not payload");
    }

    @Property
    void fewerThanTwentyBytesIsTruncated(@ForAll("untaggedUdpFrames") UdpFrameSpec spec,
                                         @ForAll @IntRange(max = 19) int available) {
        assertEquals(WireError.IP_TRUNCATED, Ipv4.validate(write(spec), IP, available));
    }

    /** RFC 791: a fragment must end within the 65535-byte datagram it belongs to. */
    @Property
    void fragmentsPastTheDatagramLimitAreRejected(@ForAll("untaggedUdpFrames") UdpFrameSpec spec,
                                                  @ForAll @IntRange(max = 0x1FFF) int offsetUnits,
                                                  @ForAll boolean more) {
        MemorySegment s = write(spec);
        Assume.that(more || offsetUnits != 0);
        Bytes.putU16(s, IP + 6, (more ? Ipv4.FLAG_MF : 0) | offsetUnits);
        Frames.refreshIpChecksum(s, IP);
        boolean fits = Ipv4.MIN_HEADER_LENGTH + offsetUnits * 8 + (spec.ipTotalLength() - 20) <= Ipv4.MAX_DATAGRAM;
        assertEquals(fits ? null : WireError.IP_BAD_FRAGMENT, Ipv4.validate(s, IP, spec.ipTotalLength()));
        assertTrue(Ipv4.isFragment(s, IP));
    }

    /** Options (IHL above 5) are skipped: the transport header starts at IHL * 4. */
    @Property
    void optionsAreSkipped(@ForAll("untaggedUdpFrames") UdpFrameSpec spec, @ForAll @IntRange(min = 6, max = 15) int ihl,
                           @ForAll @Size(40) byte[] options) {
        int hl = ihl * 4;
        int udpLength = Udp.HEADER_LENGTH + spec.payload().length;
        MemorySegment s = MemorySegment.ofArray(new byte[IP + hl + udpLength]);
        MemorySegment.copy(MemorySegment.ofArray(spec.payload()), 0, s, IP + hl + Udp.HEADER_LENGTH,
                spec.payload().length);
        Udp.write(s, IP + hl, spec.srcPort(), spec.dstPort(), spec.payload().length, spec.srcIp(), spec.dstIp());
        Ipv4.write(s, IP, spec.tos(), hl + udpLength, spec.identification(), 0, spec.ttl(), Ipv4.PROTO_UDP,
                spec.srcIp(), spec.dstIp());
        Bytes.putU8(s, IP, 0x40 | ihl);
        MemorySegment.copy(MemorySegment.ofArray(options), 0, s, IP + 20, hl - 20);
        Frames.refreshIpChecksum(s, IP);
        Ethernet.write(s, 0, spec.dstMac(), spec.srcMac(), Ethernet.TYPE_IPV4);

        assertNull(Ipv4.validate(s, IP, hl + udpLength));
        assertEquals(hl, Ipv4.headerLength(s, IP));
        assertEquals(spec.srcIp(), Ipv4.source(s, IP));
        assertEquals(spec.dstIp(), Ipv4.destination(s, IP));
        Decoded d = FrameDecoder.decode(s, (int) s.byteSize());
        assertNull(d.error());
        assertEquals(new Decoded.UdpView(spec.srcPort(), spec.dstPort(), udpLength, Udp.checksum(s, IP + hl), true,
                spec.payloadHex()), d.udp());
    }

    // ---- UDP ----

    @Property
    void udpShorterThanItsHeaderIsTruncated(@ForAll("untaggedUdpFrames") UdpFrameSpec spec,
                                            @ForAll @IntRange(max = 7) int ipPayload) {
        assertEquals(WireError.UDP_TRUNCATED, Udp.validate(write(spec), L4, ipPayload, spec.srcIp(), spec.dstIp()));
    }

    @Property
    void udpLengthOutsideTheDatagramIsBad(@ForAll("untaggedUdpFrames") UdpFrameSpec spec,
                                          @ForAll @IntRange(max = 0xFFFF) int udpLength) {
        int ipPayload = spec.ipTotalLength() - Ipv4.MIN_HEADER_LENGTH;
        Assume.that(udpLength < Udp.HEADER_LENGTH || udpLength > ipPayload);
        MemorySegment s = write(spec);
        Bytes.putU16(s, L4 + 4, udpLength);
        assertEquals(WireError.UDP_BAD_LENGTH, Udp.validate(s, L4, ipPayload, spec.srcIp(), spec.dstIp()));
    }

    /** Bytes after the UDP length inside the IP payload are not covered by the checksum. */
    @Property
    void udpShorterThanTheDatagramChecksOnlyItsLength(@ForAll("untaggedUdpFrames") UdpFrameSpec spec,
                                                      @ForAll @Size(min = 1, max = 16) byte[] trailer) {
        int udpLength = Udp.HEADER_LENGTH + spec.payload().length;
        MemorySegment s = MemorySegment.ofArray(new byte[spec.frameLength() + trailer.length]);
        spec.write(s, 0);
        MemorySegment.copy(MemorySegment.ofArray(trailer), 0, s, spec.frameLength(), trailer.length);
        assertNull(Udp.validate(s, L4, udpLength + trailer.length, spec.srcIp(), spec.dstIp()));
    }

    @Property
    void udpCorruptionIsABadChecksum(@ForAll("untaggedUdpFrames") UdpFrameSpec spec, @ForAll @IntRange(max = 11999) int bit,
                                     @ForAll int otherSource) {
        int udpLength = Udp.HEADER_LENGTH + spec.payload().length;
        MemorySegment s = write(spec);
        int flip = bit % (udpLength * 8);
        Assume.that(flip / 8 < 4 || flip / 8 >= 6); // not the length field, which is checked first
        long at = L4 + flip / 8;
        Bytes.putU8(s, at, Bytes.u8(s, at) ^ (1 << (flip % 8)));
        Assume.that(Udp.checksum(s, L4) != 0);
        assertEquals(WireError.UDP_BAD_CHECKSUM, Udp.validate(s, L4, udpLength, spec.srcIp(), spec.dstIp()));
        Bytes.putU8(s, at, Bytes.u8(s, at) ^ (1 << (flip % 8)));
        // The pseudo-header is covered too (RFC 768): a source address that sums differently fails.
        Assume.that(wordSum(otherSource) != wordSum(spec.srcIp()));
        assertEquals(WireError.UDP_BAD_CHECKSUM, Udp.validate(s, L4, udpLength, otherSource, spec.dstIp()));
    }

    @Property
    void zeroUdpChecksumMeansNone(@ForAll("untaggedUdpFrames") UdpFrameSpec spec, @ForAll int anySource) {
        MemorySegment s = write(spec);
        Bytes.putU16(s, L4 + 6, 0);
        int udpLength = Udp.HEADER_LENGTH + spec.payload().length;
        assertNull(Udp.validate(s, L4, udpLength, anySource, spec.dstIp()));
    }

    // ---- ICMP, ARP, Ethernet ----

    @Property
    void icmpErrors(@ForAll @Size(min = 8, max = 200) byte[] message, @ForAll @IntRange(max = 7) int shortLength,
                    @ForAll @IntRange(max = 1599) int bit) {
        MemorySegment s = MemorySegment.ofArray(message);
        Icmp.finish(s, 0, message.length);
        assertNull(Icmp.validate(s, 0, message.length));
        assertEquals(WireError.ICMP_TRUNCATED, Icmp.validate(s, 0, shortLength));
        int flip = bit % (message.length * 8);
        message[flip / 8] ^= (byte) (1 << (flip % 8));
        assertEquals(WireError.ICMP_BAD_CHECKSUM, Icmp.validate(s, 0, message.length));
    }

    @Property
    void arpErrors(@ForAll @IntRange(max = 27) int shortLength, @ForAll @IntRange(max = 3) int field,
                   @ForAll @IntRange(min = 1, max = 0xFF) int delta) {
        MemorySegment s = MemorySegment.ofArray(new byte[Arp.LENGTH]);
        Arp.write(s, 0, Arp.OP_REQUEST, 0x0200_0000_0001L, 0xC612_0001, 0, 0xC612_0002);
        assertEquals(WireError.ARP_TRUNCATED, Arp.validate(s, 0, shortLength));
        // htype (byte 1), ptype (byte 3), hlen (byte 4), plen (byte 5)
        int at = new int[] {1, 3, 4, 5}[field];
        Bytes.putU8(s, at, Bytes.u8(s, at) ^ delta);
        assertEquals(WireError.ARP_UNSUPPORTED_FORMAT, Arp.validate(s, 0, Arp.LENGTH));
    }

    @Example
    void framesTooShortForTheirLinkHeaderAreTruncated() {
        MemorySegment s = MemorySegment.ofArray(new byte[18]);
        Frames.writeTaggedHeader(s, 0, 1, 2, 0, false, 7, Ethernet.TYPE_IPV4);
        for (int len = 0; len < 18; len++) {
            assertEquals(WireError.ETH_TRUNCATED, FrameDecoder.decode(s.asSlice(0, len), len).error());
        }
        Decoded d = FrameDecoder.decode(s, 18);
        assertNotNull(d.eth());
        assertEquals(WireError.IP_TRUNCATED, d.error());
    }

    /** An address's contribution to the one's-complement sum (modulo 2^16 - 1). */
    private static int wordSum(int addr) {
        return ((addr >>> 16) + (addr & 0xFFFF)) % 0xFFFF;
    }

    private static MemorySegment write(UdpFrameSpec spec) {
        MemorySegment s = MemorySegment.ofArray(new byte[spec.frameLength()]);
        spec.write(s, 0);
        return s;
    }
}
