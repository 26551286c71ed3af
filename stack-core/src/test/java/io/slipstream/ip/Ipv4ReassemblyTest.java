package io.slipstream.ip;

import static io.slipstream.testing.RawPeer.PEER_IP;
import static io.slipstream.testing.RawPeer.STACK_IP;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.slipstream.testing.RawPeer;
import io.slipstream.udp.UdpSocket;
import io.slipstream.wire.Icmp;
import io.slipstream.wire.Ipv4;
import java.lang.foreign.MemorySegment;
import java.net.BindException;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * IPv4 reassembly (RFC 791 §3.2) against fragments crafted by the test: any order, overlaps,
 * bounded slots, the timeout and its ICMP time-exceeded, and fragments that contradict each
 * other.
 */
class Ipv4ReassemblyTest {
    private static final int PORT = 4100;

    /** Closed after each test, which checks that every buffer came back, each reassembly slot's included. */
    @RegisterExtension
    final RawPeer peer = RawPeer.entered(Map.of("slipstream.ip.reassembly.slots", "2"));
    private UdpSocket socket;

    @BeforeEach
    void open() throws BindException {
        socket = peer.stack.udp().open();
        socket.bind(PORT);
    }

    /** A UDP datagram (header + payload) of {@code payloadLength} bytes with a valid checksum. */
    private static byte[] udpDatagram(int payloadLength, int seed) {
        byte[] payload = new byte[payloadLength];
        for (int i = 0; i < payloadLength; i++) {
            payload[i] = (byte) (i * 31 + seed);
        }
        return RawPeer.udpDatagram(PEER_IP, STACK_IP, 3333, PORT, payload);
    }

    /** One fragment carrying {@code datagram[offset, offset+length)}. */
    private static byte[] fragment(byte[] datagram, int id, int offset, int length, boolean more) {
        return RawPeer.ipv4(PEER_IP, STACK_IP, Ipv4.PROTO_UDP, id, (more ? Ipv4.FLAG_MF : 0) | offset / 8,
                Arrays.copyOfRange(datagram, offset, offset + length));
    }

    private void deliver(byte[]... frames) {
        peer.deliver(frames);
    }

    private byte[] receive() {
        ByteBuffer in = ByteBuffer.allocate(70_000);
        int n = socket.receive(in);
        return n < 0 ? null : Arrays.copyOf(in.array(), n);
    }

    @Test
    void rfc791_fragmentsReassembleInAnyOrder() {
        byte[] d = udpDatagram(3000, 1);
        deliver(fragment(d, 1, 2400, d.length - 2400, false), fragment(d, 1, 1200, 1200, true),
                fragment(d, 1, 0, 1200, true));
        assertArrayEquals(Arrays.copyOfRange(d, 8, d.length), receive());
        assertEquals(1, peer.stack.ip().counters().get(IpCounter.REASSEMBLED));
    }

    @Test
    void rfc815_overlappingAndDuplicateFragmentsStillReassemble() {
        byte[] d = udpDatagram(2000, 2);
        deliver(fragment(d, 2, 0, 1000, true), fragment(d, 2, 0, 1000, true), fragment(d, 2, 800, 800, true),
                fragment(d, 2, 1600, d.length - 1600, false));
        assertArrayEquals(Arrays.copyOfRange(d, 8, d.length), receive());
        assertEquals(0, peer.stack.ip().reassembliesInProgress());
    }

    @Test
    void rfc792_anIncompleteDatagramTimesOutWithTimeExceededAndFreesItsSlot() {
        byte[] d = udpDatagram(2000, 3);
        deliver(fragment(d, 3, 0, 1000, true)); // the rest never comes
        assertEquals(1, peer.stack.ip().reassembliesInProgress());
        peer.take();
        peer.clock.advanceMillis(29_999);
        peer.settle();
        assertEquals(1, peer.stack.ip().reassembliesInProgress(), "not before the 30 s deadline");
        peer.clock.advanceMillis(1);
        peer.stack.poll();
        peer.raw.poll();
        peer.stack.poll();
        assertEquals(0, peer.stack.ip().reassembliesInProgress());
        assertEquals(1, peer.stack.ip().counters().get(IpCounter.REASSEMBLY_TIMEOUTS));
        // RFC 792: time exceeded (code 1, reassembly) quoting the first fragment's header.
        boolean seen = false;
        for (MemorySegment s : peer.takeIpv4(Ipv4.PROTO_ICMP)) {
            assertEquals(Icmp.TYPE_TIME_EXCEEDED, Icmp.type(s, 34));
            assertEquals(Icmp.CODE_REASSEMBLY_TIME_EXCEEDED, Icmp.code(s, 34));
            assertEquals(3, Ipv4.identification(s, 42), "quotes the lost datagram's header");
            seen = true;
        }
        assertTrue(seen, "time exceeded was sent");
    }

    @Test
    void rfc1122_noTimeExceededWhenTheFirstFragmentNeverCame() {
        byte[] d = udpDatagram(2000, 4);
        deliver(fragment(d, 4, 1000, d.length - 1000, false));
        peer.take();
        peer.clock.advanceMillis(30_000);
        peer.stack.poll();
        peer.raw.poll();
        assertEquals(1, peer.stack.ip().counters().get(IpCounter.REASSEMBLY_TIMEOUTS));
        assertEquals(0, peer.stack.ip().counters().get(IpCounter.ICMP_ERRORS_SENT));
    }

    @Test
    void whenEverySlotIsBusyNewDatagramsAreDroppedUntilOneTimesOut() {
        byte[] d = udpDatagram(2000, 5);
        deliver(fragment(d, 10, 0, 1000, true), fragment(d, 11, 0, 1000, true)); // the 2 slots
        deliver(fragment(d, 12, 0, 1000, true), fragment(d, 12, 1000, d.length - 1000, false));
        assertEquals(2, peer.stack.ip().counters().get(IpCounter.REASSEMBLY_NO_SLOT));
        assertEquals(null, receive(), "the third datagram could not be reassembled");
        peer.clock.advanceMillis(30_000);
        peer.stack.poll();
        deliver(fragment(d, 12, 0, 1000, true), fragment(d, 12, 1000, d.length - 1000, false));
        assertArrayEquals(Arrays.copyOfRange(d, 8, d.length), receive(), "slots are free again");
    }

    @Test
    void rfc791_contradictoryFragmentsAbandonTheDatagram() {
        byte[] d = udpDatagram(2000, 6);
        // Two different ends for the same datagram.
        deliver(fragment(d, 20, 1000, 1008, false), fragment(d, 20, 1000, 800, false));
        assertEquals(1, peer.stack.ip().counters().get(IpCounter.REASSEMBLY_INCONSISTENT));
        assertEquals(0, peer.stack.ip().reassembliesInProgress());
        // A middle fragment whose length is not a multiple of 8 (RFC 791 §3.2).
        deliver(fragment(d, 21, 0, 1001, true));
        assertEquals(2, peer.stack.ip().counters().get(IpCounter.REASSEMBLY_INCONSISTENT));
        assertEquals(null, receive());
    }
}
