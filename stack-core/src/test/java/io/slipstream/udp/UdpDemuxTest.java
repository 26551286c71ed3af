package io.slipstream.udp;

import static io.slipstream.testing.RawPeer.PEER_IP;
import static io.slipstream.testing.RawPeer.STACK_IP;
import static io.slipstream.testing.RawPeer.SUBNET_BROADCAST;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.slipstream.testing.RawPeer;
import io.slipstream.wire.Ethernet;
import io.slipstream.wire.Ipv4;
import io.slipstream.wire.Ipv4Address;
import io.slipstream.wire.Udp;
import io.slipstream.wire.WireError;
import java.net.BindException;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * UDP demultiplexing and input checks (RFC 768, RFC 1122 §4.1.3): a datagram goes to the
 * socket bound to its destination port; a connected socket takes only its peer's datagrams,
 * an unconnected one everybody's; the checksum is verified unless the sender sent none, and a
 * datagram that fails it, or whose length lies, is dropped and counted. Against datagrams the
 * test writes itself ({@link RawPeer}).
 */
class UdpDemuxTest {
    private static final int UDP = Ethernet.HEADER_LENGTH + Ipv4.MIN_HEADER_LENGTH;
    private static final int ANOTHER_HOST = Ipv4Address.parse("198.18.2.3");
    private static final int PORT = 5000;

    @RegisterExtension
    final RawPeer peer = RawPeer.entered();

    private UdpSocket bound(int port) throws BindException {
        UdpSocket s = peer.stack.udp().open();
        s.bind(port);
        return s;
    }

    /** The next datagram's payload, or null when none is queued. */
    private static byte[] receive(UdpSocket s) {
        ByteBuffer in = ByteBuffer.allocate(2048);
        int n = s.receive(in);
        return n < 0 ? null : Arrays.copyOf(in.array(), n);
    }

    /** A datagram to the stack from {@code source} (which need not be the peer's own address). */
    private static byte[] from(int source, int sourcePort, int destinationPort, byte[] payload) {
        return RawPeer.ipv4(source, STACK_IP, Ipv4.PROTO_UDP, 1, 0,
                RawPeer.udpDatagram(source, STACK_IP, sourcePort, destinationPort, payload));
    }

    private long count(UdpCounter c) {
        return peer.stack.udp().counters().get(c);
    }

    private long count(WireError e) {
        return peer.stack.wireErrors().get(e);
    }

    @Test
    void rfc768_eachDatagramGoesToTheSocketBoundToItsDestinationPort() throws BindException {
        UdpSocket a = bound(PORT);
        UdpSocket b = bound(PORT + 1);
        peer.deliver(RawPeer.udp(3333, PORT + 1, new byte[] {'b'}), RawPeer.udp(3333, PORT, new byte[] {'a'}));
        assertArrayEquals(new byte[] {'a'}, receive(a));
        assertArrayEquals(new byte[] {'b'}, receive(b));
        assertNull(receive(a));
        assertNull(receive(b));
        assertEquals(PEER_IP, a.lastSourceAddress());
        assertEquals(3333, a.lastSourcePort());
        assertEquals(2, count(UdpCounter.RX_DATAGRAMS));
    }

    @Test
    void rfc768_anUnconnectedSocketTakesDatagramsFromEveryPeer() throws BindException {
        UdpSocket s = bound(PORT);
        peer.deliver(from(PEER_IP, 3333, PORT, new byte[] {1}), from(PEER_IP, 4444, PORT, new byte[] {2}),
                from(ANOTHER_HOST, 3333, PORT, new byte[] {3}));
        int[][] sources = {{PEER_IP, 3333}, {PEER_IP, 4444}, {ANOTHER_HOST, 3333}};
        for (int i = 0; i < 3; i++) {
            assertArrayEquals(new byte[] {(byte) (i + 1)}, receive(s));
            assertEquals(sources[i][0], s.lastSourceAddress());
            assertEquals(sources[i][1], s.lastSourcePort());
        }
        assertEquals(0, count(UdpCounter.WRONG_PEER));
    }

    @Test
    void rfc768_aConnectedSocketTakesOnlyItsPeersDatagrams() throws BindException {
        UdpSocket s = bound(PORT);
        s.connect(PEER_IP, 3333);
        peer.deliver(from(PEER_IP, 4444, PORT, new byte[] {1}), from(ANOTHER_HOST, 3333, PORT, new byte[] {2}),
                from(PEER_IP, 3333, PORT, new byte[] {3}));
        assertArrayEquals(new byte[] {3}, receive(s));
        assertNull(receive(s));
        assertEquals(2, count(UdpCounter.WRONG_PEER), "another port, another host");
    }

    @Test
    void rfc1122_aDatagramToTheBroadcastAddressReachesTheSocketBoundToItsPort() throws BindException {
        UdpSocket s = bound(PORT);
        byte[] udp = RawPeer.udpDatagram(PEER_IP, SUBNET_BROADCAST, 3333, PORT, new byte[] {7});
        peer.deliver(RawPeer.ipv4(PEER_IP, SUBNET_BROADCAST, Ipv4.PROTO_UDP, 1, 0, udp));
        assertArrayEquals(new byte[] {7}, receive(s));
    }

    @Test
    void rfc768_aZeroChecksumMeansTheSenderComputedNone() throws BindException {
        UdpSocket s = bound(PORT);
        byte[] frame = RawPeer.udp(3333, PORT, "unchecked".getBytes());
        frame[UDP + 6] = 0;
        frame[UDP + 7] = 0;
        peer.deliver(frame);
        assertArrayEquals("unchecked".getBytes(), receive(s));
        assertEquals(0, count(WireError.UDP_BAD_CHECKSUM));
    }

    @Test
    void rfc1122_aDatagramWithABadChecksumIsDroppedAndCounted() throws BindException {
        UdpSocket s = bound(PORT);
        byte[] toSocket = RawPeer.udp(3333, PORT, "corrupted".getBytes());
        byte[] toNobody = RawPeer.udp(3333, 9999, "corrupted".getBytes());
        toSocket[toSocket.length - 1] ^= 1;
        toNobody[toNobody.length - 1] ^= 1;
        peer.deliver(toSocket, toNobody);
        assertNull(receive(s));
        assertEquals(2, count(WireError.UDP_BAD_CHECKSUM));
        assertEquals(0, count(UdpCounter.RX_DATAGRAMS));
        assertEquals(0, count(UdpCounter.NO_PORT), "dropped before the port is looked at");
        assertEquals(List.of(), peer.takeIpv4(Ipv4.PROTO_ICMP), "silently: no port unreachable");
    }

    @Test
    void rfc768_aLengthFieldLongerThanTheDatagramIsDroppedAndCounted() throws BindException {
        UdpSocket s = bound(PORT);
        byte[] frame = RawPeer.udp(3333, PORT, new byte[8]);
        int claimed = Udp.HEADER_LENGTH + 8 + 1;
        frame[UDP + 4] = (byte) (claimed >>> 8);
        frame[UDP + 5] = (byte) claimed;
        peer.deliver(frame);
        assertNull(receive(s));
        assertEquals(1, count(WireError.UDP_BAD_LENGTH));
        assertEquals(0, count(UdpCounter.RX_DATAGRAMS));
    }
}
