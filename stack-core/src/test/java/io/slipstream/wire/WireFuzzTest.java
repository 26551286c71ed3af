package io.slipstream.wire;

import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.lang.foreign.MemorySegment;

/**
 * Coverage-guided fuzz targets for every wire parser: arbitrary bytes in a segment of exactly
 * their length (so a read past the end throws), read the way the receive path reads them. No
 * exception may escape (a malformed input is a {@link WireError}, never a throw), and whatever a
 * parser reports as valid lies inside the bytes it was given.
 *
 * <p>Without {@code JAZZER_FUZZ} each target replays its committed inputs under
 * {@code src/test/resources/io/slipstream/wire/WireFuzzTestInputs/<method>/}; docs/ARCHITECTURE.md
 * (Fuzzing) says how to fuzz for longer.
 */
class WireFuzzTest {

    @FuzzTest(maxDuration = "10s")
    void ethernet(byte[] frame) {
        MemorySegment s = MemorySegment.ofArray(frame);
        int hl = Ethernet.headerLength(s, 0, frame.length);
        if (hl < 0) {
            return;
        }
        assertTrue(hl == Ethernet.HEADER_LENGTH || hl == Ethernet.HEADER_LENGTH + Ethernet.VLAN_TAG_LENGTH);
        assertTrue(hl <= frame.length, "header inside the frame");
        Ethernet.destination(s, 0);
        Ethernet.source(s, 0);
        Ethernet.payloadType(s, 0);
        if (Ethernet.isTagged(s, 0)) {
            assertTrue(Ethernet.vlanId(s, 0) < 4096);
        }
    }

    @FuzzTest(maxDuration = "10s")
    void arp(byte[] packet) {
        MemorySegment s = MemorySegment.ofArray(packet);
        if (Arp.validate(s, 0, packet.length) != null) {
            return;
        }
        assertTrue(packet.length >= Arp.LENGTH, "a valid ARP packet has all its fields");
        Arp.operation(s, 0);
        Arp.senderMac(s, 0);
        Arp.senderIp(s, 0);
        Arp.targetMac(s, 0);
        Arp.targetIp(s, 0);
    }

    /** The IPv4 header with options and fragment fields, then its transport as the stack would hand it on. */
    @FuzzTest(maxDuration = "10s")
    void ipv4(byte[] datagram) {
        MemorySegment s = MemorySegment.ofArray(datagram);
        if (Ipv4.validate(s, 0, datagram.length) != null) {
            return;
        }
        int hl = Ipv4.headerLength(s, 0);
        int total = Ipv4.totalLength(s, 0);
        assertTrue(hl >= Ipv4.MIN_HEADER_LENGTH && hl <= Ipv4.MAX_HEADER_LENGTH, "header length in range");
        assertTrue(hl <= total && total <= datagram.length, "header inside the datagram, datagram inside the bytes");
        if (Ipv4.isFragment(s, 0)) {
            assertTrue(Ipv4.fragmentOffset(s, 0) + (total - hl) <= Ipv4.MAX_DATAGRAM - hl,
                    "a valid fragment fits in a reassembled datagram");
            return;
        }
        int src = Ipv4.source(s, 0);
        int dst = Ipv4.destination(s, 0);
        switch (Ipv4.protocol(s, 0)) {
            case Ipv4.PROTO_TCP -> tcp(s, hl, total - hl, src, dst);
            case Ipv4.PROTO_UDP -> udp(s, hl, total - hl, src, dst);
            case Ipv4.PROTO_ICMP -> icmp(s, hl, total - hl);
            default -> { }
        }
    }

    @FuzzTest(maxDuration = "10s")
    void icmp(byte[] message) {
        icmp(MemorySegment.ofArray(message), 0, message.length);
    }

    /** UDP with the checksum taken as given: the fuzzer cannot be expected to fix it, so the zero "none sent" case carries it deep. */
    @FuzzTest(maxDuration = "10s")
    void udp(byte[] datagram) {
        udp(MemorySegment.ofArray(datagram), 0, datagram.length, 0, 0);
    }

    /** A TCP segment whose checksum is made right first, so the fuzzer reaches the option checks. */
    @FuzzTest(maxDuration = "10s")
    void tcp(byte[] segment) {
        MemorySegment s = MemorySegment.ofArray(segment);
        if (segment.length >= Tcp.MIN_HEADER_LENGTH) {
            Tcp.writeChecksum(s, 0, segment.length, 1, 2);
        }
        tcp(s, 0, segment.length, 1, 2);
    }

    /** The option area alone, any length: parse and the well-formedness check must agree. */
    @FuzzTest(maxDuration = "10s")
    void tcpOptions(byte[] area) {
        MemorySegment s = MemorySegment.ofArray(area);
        TcpOptions o = new TcpOptions();
        boolean parsed = o.parse(s, 0, area.length);
        assertTrue(parsed == TcpOptions.wellFormed(s, 0, area.length), "parse and wellFormed agree");
        checkOptions(o);
    }

    private static void icmp(MemorySegment s, long off, int length) {
        if (Icmp.validate(s, off, length) != null) {
            return;
        }
        assertTrue(length >= Icmp.HEADER_LENGTH);
        Icmp.type(s, off);
        Icmp.code(s, off);
        Icmp.echoId(s, off);
        Icmp.echoSequence(s, off);
        Icmp.nextHopMtu(s, off);
    }

    private static void udp(MemorySegment s, long off, int ipPayloadLength, int src, int dst) {
        if (Udp.validate(s, off, ipPayloadLength, src, dst) != null) {
            return;
        }
        int len = Udp.length(s, off);
        assertTrue(len >= Udp.HEADER_LENGTH && len <= ipPayloadLength, "datagram inside the IP payload");
        Udp.sourcePort(s, off);
        Udp.destinationPort(s, off);
    }

    private static void tcp(MemorySegment s, long off, int length, int src, int dst) {
        if (Tcp.validate(s, off, length, src, dst) != null) {
            return;
        }
        int hl = Tcp.headerLength(s, off);
        assertTrue(hl >= Tcp.MIN_HEADER_LENGTH && hl <= Tcp.MAX_HEADER_LENGTH && hl <= length, "header inside the segment");
        Tcp.sourcePort(s, off);
        Tcp.destinationPort(s, off);
        Tcp.sequence(s, off);
        Tcp.acknowledgment(s, off);
        Tcp.flags(s, off);
        Tcp.window(s, off);
        Tcp.urgentPointer(s, off);
        TcpOptions o = new TcpOptions();
        assertTrue(o.parse(s, off), "validated options parse");
        checkOptions(o);
    }

    private static void checkOptions(TcpOptions o) {
        assertTrue(o.sackBlockCount >= 0 && o.sackBlockCount <= TcpOptions.MAX_SACK_BLOCKS, "SACK blocks bounded");
        assertTrue(o.windowScale >= -1 && o.windowScale <= TcpOptions.MAX_WINDOW_SCALE, "RFC 7323 §2.3: shift at most 14");
        assertTrue(o.mss >= -1 && o.mss <= 0xFFFF, "MSS is 16 bits");
    }
}
