package io.slipstream.ip;

import static io.slipstream.testing.RawPeer.PEER_IP;
import static io.slipstream.testing.RawPeer.STACK_IP;
import static io.slipstream.testing.RawPeer.SUBNET_BROADCAST;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.slipstream.testing.RawPeer;
import io.slipstream.udp.UdpCounter;
import io.slipstream.wire.Ethernet;
import io.slipstream.wire.Icmp;
import io.slipstream.wire.Ipv4;
import io.slipstream.wire.Ipv4Address;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * ICMP (RFC 792) as a host must use it (RFC 1122 §3.2.2): echo answered, errors sent about
 * datagrams nobody takes, quoting their header, and never where RFC 1122 forbids them (about
 * a broadcast, about an ICMP error), at a bounded rate. Against datagrams the test writes
 * itself ({@link RawPeer}).
 */
class IcmpTest {
    private static final int IP = Ethernet.HEADER_LENGTH;
    private static final int ICMP = IP + Ipv4.MIN_HEADER_LENGTH;
    private static final int UNKNOWN_PROTOCOL = 99;

    @RegisterExtension
    final RawPeer peer = RawPeer.entered();

    private long count(IpCounter c) {
        return peer.stack.ip().counters().get(c);
    }

    /** The one ICMP message the stack sent, after checking it is well-formed and for the peer. */
    private MemorySegment theOnlyIcmpSent() {
        List<MemorySegment> sent = peer.takeIpv4(Ipv4.PROTO_ICMP);
        assertEquals(1, sent.size(), "ICMP messages sent");
        MemorySegment s = sent.get(0);
        assertEquals(STACK_IP, Ipv4.source(s, IP));
        assertEquals(PEER_IP, Ipv4.destination(s, IP));
        assertNull(Icmp.validate(s, ICMP, Ipv4.totalLength(s, IP) - Ipv4.MIN_HEADER_LENGTH), "checksum and length");
        return s;
    }

    private static byte[] bytes(MemorySegment s, long from, int length) {
        return s.asSlice(from, length).toArray(ValueLayout.JAVA_BYTE);
    }

    @Test
    void rfc792_anEchoRequestIsAnsweredWithItsIdentifierSequenceAndData() {
        byte[] data = new byte[40];
        Arrays.fill(data, (byte) 0x5A);
        data[0] = 1;
        data[39] = 2;
        peer.deliver(RawPeer.ipv4(Ipv4.PROTO_ICMP, RawPeer.icmp(Icmp.TYPE_ECHO_REQUEST, 0, 0x1234 << 16 | 7, data)));
        MemorySegment reply = theOnlyIcmpSent();
        assertEquals(Icmp.TYPE_ECHO_REPLY, Icmp.type(reply, ICMP));
        assertEquals(0, Icmp.code(reply, ICMP));
        assertEquals(0x1234, Icmp.echoId(reply, ICMP));
        assertEquals(7, Icmp.echoSequence(reply, ICMP));
        assertArrayEquals(data, bytes(reply, ICMP + Icmp.HEADER_LENGTH, data.length));
        assertEquals(1, count(IpCounter.ICMP_ECHO_REQUESTS));
        assertEquals(1, count(IpCounter.ICMP_ECHO_REPLIES_SENT));
    }

    @Test
    void rfc1122_anEchoRequestToABroadcastAddressIsIgnored() {
        byte[] request = RawPeer.icmp(Icmp.TYPE_ECHO_REQUEST, 0, 1 << 16 | 1, new byte[8]);
        peer.deliver(RawPeer.ipv4(PEER_IP, SUBNET_BROADCAST, Ipv4.PROTO_ICMP, 1, 0, request));
        assertEquals(List.of(), peer.take());
        assertEquals(1, count(IpCounter.ICMP_ECHO_BROADCAST_IGNORED));
    }

    @Test
    void rfc1122_udpToAPortWithoutASocketIsAnsweredWithPortUnreachableQuotingItsHeader() {
        byte[] datagram = RawPeer.udp(3333, 9999, "nobody listens".getBytes());
        peer.deliver(datagram);
        MemorySegment error = theOnlyIcmpSent();
        assertEquals(Icmp.TYPE_DEST_UNREACHABLE, Icmp.type(error, ICMP));
        assertEquals(Icmp.CODE_PORT_UNREACHABLE, Icmp.code(error, ICMP));
        // RFC 792: the internet header plus the first 64 bits of the original datagram.
        int quote = Ipv4.MIN_HEADER_LENGTH + Icmp.QUOTE_PAYLOAD;
        assertEquals(Icmp.HEADER_LENGTH + quote, Ipv4.totalLength(error, IP) - Ipv4.MIN_HEADER_LENGTH);
        assertArrayEquals(Arrays.copyOfRange(datagram, IP, IP + quote), bytes(error, ICMP + Icmp.HEADER_LENGTH, quote));
        assertEquals(1, peer.stack.udp().counters().get(UdpCounter.NO_PORT));
        assertEquals(1, count(IpCounter.ICMP_ERRORS_SENT));
    }

    @Test
    void rfc1122_aDatagramForAnUnknownProtocolIsAnsweredWithProtocolUnreachable() {
        peer.deliver(RawPeer.ipv4(UNKNOWN_PROTOCOL, new byte[16]));
        MemorySegment error = theOnlyIcmpSent();
        assertEquals(Icmp.TYPE_DEST_UNREACHABLE, Icmp.type(error, ICMP));
        assertEquals(Icmp.CODE_PROTOCOL_UNREACHABLE, Icmp.code(error, ICMP));
        assertEquals(UNKNOWN_PROTOCOL, Ipv4.protocol(error, ICMP + Icmp.HEADER_LENGTH), "quotes the datagram's header");
        assertEquals(1, count(IpCounter.RX_UNKNOWN_PROTOCOL));
    }

    @Test
    void rfc1122_noErrorIsSentAboutADatagramToABroadcastAddress() {
        byte[] udp = RawPeer.udpDatagram(PEER_IP, SUBNET_BROADCAST, 3333, 9999, new byte[4]);
        peer.deliver(RawPeer.ipv4(PEER_IP, SUBNET_BROADCAST, Ipv4.PROTO_UDP, 1, 0, udp),
                RawPeer.ipv4(PEER_IP, Ipv4Address.BROADCAST, UNKNOWN_PROTOCOL, 2, 0, new byte[8]));
        assertEquals(List.of(), peer.take());
        assertEquals(1, peer.stack.udp().counters().get(UdpCounter.NO_PORT), "no socket, yet no port unreachable");
        assertEquals(1, count(IpCounter.RX_UNKNOWN_PROTOCOL), "unknown, yet no protocol unreachable");
        assertEquals(0, count(IpCounter.ICMP_ERRORS_SENT));
    }

    @Test
    void rfc1122_noErrorIsSentAboutAnIcmpError() {
        // Two ICMP datagrams of which only the first fragment comes: an echo request and a
        // destination unreachable. Both time out in reassembly; only the echo request, not an
        // error itself, is reported with time exceeded.
        byte[] echo = RawPeer.icmp(Icmp.TYPE_ECHO_REQUEST, 0, 1 << 16 | 1, new byte[2000]);
        byte[] error = RawPeer.icmp(Icmp.TYPE_DEST_UNREACHABLE, Icmp.CODE_PORT_UNREACHABLE, 0, new byte[2000]);
        peer.deliver(RawPeer.ipv4(PEER_IP, STACK_IP, Ipv4.PROTO_ICMP, 31, Ipv4.FLAG_MF, Arrays.copyOf(echo, 1000)),
                RawPeer.ipv4(PEER_IP, STACK_IP, Ipv4.PROTO_ICMP, 32, Ipv4.FLAG_MF, Arrays.copyOf(error, 1000)));
        peer.clock.advance(Ipv4Layer.DEFAULT_REASSEMBLY_TIMEOUT_NANOS);
        peer.settle();
        assertEquals(2, count(IpCounter.REASSEMBLY_TIMEOUTS));
        MemorySegment sent = theOnlyIcmpSent();
        assertEquals(Icmp.TYPE_TIME_EXCEEDED, Icmp.type(sent, ICMP));
        assertEquals(31, Ipv4.identification(sent, ICMP + Icmp.HEADER_LENGTH), "about the echo request");
        assertEquals(1, count(IpCounter.ICMP_ERRORS_SENT));
    }

    @Test
    void rfc1122_errorsAreRateLimitedToABurstThenASteadyRate() {
        int burst = IcmpLayer.DEFAULT_ERROR_BURST;
        for (int i = 0; i < burst + 10; i++) {
            peer.deliver(RawPeer.udp(3333, 9999, new byte[] {(byte) i}));
        }
        assertEquals(burst, peer.takeIpv4(Ipv4.PROTO_ICMP).size(), "a burst at one instant");
        assertEquals(10, count(IpCounter.ICMP_ERRORS_RATE_LIMITED));
        // One more error per 1/DEFAULT_ERRORS_PER_SECOND of (virtual) time.
        peer.clock.advanceMillis(5 * 1000 / IcmpLayer.DEFAULT_ERRORS_PER_SECOND);
        for (int i = 0; i < 10; i++) {
            peer.deliver(RawPeer.udp(3333, 9999, new byte[] {(byte) i}));
        }
        assertEquals(5, peer.takeIpv4(Ipv4.PROTO_ICMP).size());
        assertEquals(15, count(IpCounter.ICMP_ERRORS_RATE_LIMITED));
        assertEquals(burst + 5, count(IpCounter.ICMP_ERRORS_SENT));
    }
}
