package io.slipstream.stack;

import static io.slipstream.testing.RawPeer.PEER_IP;
import static io.slipstream.testing.RawPeer.STACK_IP;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.slipstream.tcp.TcpConnection;
import io.slipstream.tcp.TcpListener;
import io.slipstream.tcp.TcpState;
import io.slipstream.testing.RawPeer;
import io.slipstream.udp.UdpSocket;
import io.slipstream.wire.Bytes;
import io.slipstream.wire.Ethernet;
import io.slipstream.wire.Icmp;
import io.slipstream.wire.InternetChecksum;
import io.slipstream.wire.Ipv4;
import io.slipstream.wire.Tcp;
import io.slipstream.wire.Udp;
import java.lang.foreign.MemorySegment;
import java.net.BindException;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.Map;

/**
 * Coverage-guided fuzz target for the stack's receive path: one frame from the fuzzer into a
 * stack (over the in-memory driver, played against by {@link RawPeer}) that has a TCP listener,
 * an established connection with data in flight both ways, a bound UDP socket and the first
 * fragment of a datagram held for reassembly.
 *
 * <p>The input's first byte chooses which fix-ups make the rest of it (the frame) get deep: the
 * Ethernet destination, the IP addresses, the IP version, lengths and header checksum, the
 * ports and sequence numbers of the live connection (or the UDP socket's port), the TCP, UDP
 * or ICMP checksum. Invariants after each input: no exception escapes and the stack counted no
 * internal error; unless the input reset the connection (RFC 9293 §3.10.7.4 lets a RST at
 * RCV.NXT do that), the bytes it had received are read back intact and every byte it sends is
 * the application's at that sequence number; every buffer comes back when the stack closes
 * ({@link RawPeer#close}). A fresh stack per input, so that inputs do not depend on each other.
 *
 * <p>Without {@code JAZZER_FUZZ} the target replays its committed inputs under
 * {@code src/test/resources/io/slipstream/stack/StackReceiveFuzzTestInputs/receive/};
 * docs/ARCHITECTURE.md (Fuzzing) says how to fuzz for longer.
 */
class StackReceiveFuzzTest {
    static final int FIX_ETHERNET_DESTINATION = 0x01;
    static final int FIX_ADDRESSES = 0x02;
    static final int FIX_IP_HEADER = 0x04;
    static final int FIX_CONNECTION = 0x08;
    static final int FIX_TRANSPORT_CHECKSUM = 0x10;

    private static final int LISTEN_PORT = 80;
    private static final int PEER_PORT = 40_000;
    private static final int PEER_ISS = 1_000_000;
    private static final int PEER_WINDOW_BYTES = 65_535;
    private static final int UDP_PORT = 5000;
    private static final int HELD_FRAGMENT_ID = 77;
    private static final byte[] MSS_1460 = {2, 4, 0x05, (byte) 0xB4};
    private static final byte[] INBOUND = pattern(300, 3);
    private static final byte[] OUTBOUND = pattern(400, 5);
    private static final byte[] AFTER = pattern(200, 7);
    private static final int IP = Ethernet.HEADER_LENGTH;

    @FuzzTest(maxDuration = "10s")
    void receive(byte[] input) throws BindException {
        try (RawPeer peer = RawPeer.entered(Map.of())) {
            Stack stack = peer.stack;
            TcpListener listener = stack.tcp().listen(LISTEN_PORT, 8);
            TcpConnection connection = establish(peer, listener);
            UdpSocket udp = stack.udp().open();
            udp.bind(UDP_PORT);
            byte[] datagram = RawPeer.udpDatagram(PEER_IP, STACK_IP, 3333, UDP_PORT, pattern(48, 11));
            peer.deliver(RawPeer.ipv4(PEER_IP, STACK_IP, Ipv4.PROTO_UDP, HELD_FRAGMENT_ID, Ipv4.FLAG_MF,
                    Arrays.copyOf(datagram, 24)));
            int streamStart = connection.sndNxt();
            connection.send(ByteBuffer.wrap(OUTBOUND));
            peer.settle();

            if (input.length > 0) {
                peer.deliver(fixUp(input[0], Arrays.copyOfRange(input, 1, input.length), connection));
            }
            peer.advance(1_500_000_000L); // past the first retransmission timeout: timers run on what the input left
            peer.settle();
            assertNoInternalError(stack);

            if (connection.pendingError() == null) {
                ByteBuffer in = ByteBuffer.allocate(INBOUND.length + 70_000);
                connection.receive(in);
                assertTrue(in.position() >= INBOUND.length, "the bytes received before the input are still there");
                assertArrayEquals(INBOUND, Arrays.copyOf(in.array(), INBOUND.length), "and intact");
                if (connection.state() == TcpState.ESTABLISHED || connection.state() == TcpState.CLOSE_WAIT) {
                    connection.send(ByteBuffer.wrap(AFTER));
                    peer.settle();
                }
            }
            assertNoInternalError(stack);
            assertSentIntact(peer, streamStart);
        }
    }

    /** The peer opens a connection to the listener and sends {@link #INBOUND}; the application accepts it. */
    private static TcpConnection establish(RawPeer peer, TcpListener listener) {
        peer.deliver(RawPeer.tcp(PEER_PORT, LISTEN_PORT, PEER_ISS, 0, Tcp.SYN, PEER_WINDOW_BYTES, MSS_1460, new byte[0]));
        MemorySegment synAck = peer.takeIpv4(Ipv4.PROTO_TCP).getFirst();
        int hl = Ipv4.headerLength(synAck, IP);
        assertEquals(Tcp.SYN | Tcp.ACK, Tcp.flags(synAck, IP + hl));
        int stackIss = Tcp.sequence(synAck, IP + hl);
        peer.deliver(RawPeer.tcp(PEER_PORT, LISTEN_PORT, PEER_ISS + 1, stackIss + 1, Tcp.ACK, PEER_WINDOW_BYTES,
                new byte[0], new byte[0]));
        peer.deliver(RawPeer.tcp(PEER_PORT, LISTEN_PORT, PEER_ISS + 1, stackIss + 1, Tcp.ACK | Tcp.PSH,
                PEER_WINDOW_BYTES, new byte[0], INBOUND));
        TcpConnection c = listener.accept();
        assertNotNull(c, "the handshake completed");
        assertEquals(TcpState.ESTABLISHED, c.state());
        peer.take();
        return c;
    }

    private static void assertNoInternalError(Stack stack) {
        if (stack.counters().get(StackCounter.INTERNAL_ERRORS) != 0) {
            throw new AssertionError("the receive path threw", stack.firstInternalError());
        }
    }

    /**
     * Every payload byte the stack sent on the connection since {@code streamStart} is the
     * application's byte at that sequence number, and what was sent before the input all went out.
     */
    private static void assertSentIntact(RawPeer peer, int streamStart) {
        byte[] stream = new byte[OUTBOUND.length + AFTER.length];
        System.arraycopy(OUTBOUND, 0, stream, 0, OUTBOUND.length);
        System.arraycopy(AFTER, 0, stream, OUTBOUND.length, AFTER.length);
        boolean[] seen = new boolean[stream.length];
        for (MemorySegment f : peer.takeIpv4(Ipv4.PROTO_TCP)) {
            int hl = Ipv4.headerLength(f, IP);
            int tcp = IP + hl;
            if (Tcp.sourcePort(f, tcp) != LISTEN_PORT || Tcp.destinationPort(f, tcp) != PEER_PORT) {
                continue;
            }
            int dataOffset = tcp + Tcp.headerLength(f, tcp);
            int length = IP + Ipv4.totalLength(f, IP) - dataOffset;
            int at = Tcp.sequence(f, tcp) - streamStart;
            assertTrue(length == 0 || (at >= 0 && at + length <= stream.length),
                    "sent bytes " + at + ".." + (at + length) + " lie inside what the application wrote");
            for (int i = 0; i < length; i++) {
                assertEquals(stream[at + i], f.get(java.lang.foreign.ValueLayout.JAVA_BYTE, dataOffset + i),
                        "byte " + (at + i) + " of the stream");
                seen[at + i] = true;
            }
        }
        for (int i = 0; i < OUTBOUND.length; i++) {
            assertTrue(seen[i], "byte " + i + ", written before the input, was sent");
        }
    }

    /** Applies the fix-ups {@code mask} chooses to {@code frame}, in place; returns it. */
    static byte[] fixUp(int mask, byte[] frame, TcpConnection connection) {
        MemorySegment s = MemorySegment.ofArray(frame);
        if ((mask & FIX_ETHERNET_DESTINATION) != 0 && frame.length >= Ethernet.HEADER_LENGTH) {
            Ethernet.setDestination(s, 0, RawPeer.STACK_MAC);
        }
        if (frame.length < IP + Ipv4.MIN_HEADER_LENGTH || Ethernet.outerType(s, 0) != Ethernet.TYPE_IPV4) {
            return frame;
        }
        if ((mask & FIX_ADDRESSES) != 0) {
            Bytes.putU32(s, IP + 12, PEER_IP);
            Bytes.putU32(s, IP + 16, STACK_IP);
        }
        if ((mask & FIX_IP_HEADER) != 0) {
            int hl = Math.min((frame[IP] & 0x0F) * 4, frame.length - IP);
            hl = hl < Ipv4.MIN_HEADER_LENGTH ? Ipv4.MIN_HEADER_LENGTH : hl & ~3;
            Bytes.putU8(s, IP, 0x40 | hl / 4);
            Bytes.putU16(s, IP + 2, Math.min(frame.length - IP, Ipv4.MAX_DATAGRAM));
        }
        int hl = Ipv4.headerLength(s, IP);
        int total = Ipv4.totalLength(s, IP);
        int transport = IP + hl;
        int length = total - hl;
        if (hl >= Ipv4.MIN_HEADER_LENGTH && length >= 0 && IP + total <= frame.length && !Ipv4.isFragment(s, IP)) {
            fixTransport(mask, s, transport, length, Ipv4.protocol(s, IP), connection);
        }
        if ((mask & FIX_IP_HEADER) != 0) {
            Bytes.putU16(s, IP + 10, 0);
            Bytes.putU16(s, IP + 10, InternetChecksum.compute(s, IP, Math.min(hl, frame.length - IP)));
        }
        return frame;
    }

    private static void fixTransport(int mask, MemorySegment s, int off, int length, int protocol,
                                     TcpConnection connection) {
        int src = Ipv4.source(s, IP);
        int dst = Ipv4.destination(s, IP);
        if (protocol == Ipv4.PROTO_TCP && length >= Tcp.MIN_HEADER_LENGTH) {
            if ((mask & FIX_CONNECTION) != 0) {
                Bytes.putU16(s, off, PEER_PORT);
                Bytes.putU16(s, off + 2, LISTEN_PORT);
                Tcp.setSequence(s, off, connection.rcvNxt());
                Tcp.setAcknowledgment(s, off, connection.sndNxt());
            }
            if ((mask & FIX_TRANSPORT_CHECKSUM) != 0) {
                Tcp.writeChecksum(s, off, length, src, dst);
            }
        } else if (protocol == Ipv4.PROTO_UDP && length >= Udp.HEADER_LENGTH) {
            if ((mask & FIX_CONNECTION) != 0) {
                Bytes.putU16(s, off + 2, UDP_PORT);
            }
            if ((mask & FIX_TRANSPORT_CHECKSUM) != 0) {
                Udp.write(s, off, Udp.sourcePort(s, off), Udp.destinationPort(s, off), length - Udp.HEADER_LENGTH,
                        src, dst);
            }
        } else if (protocol == Ipv4.PROTO_ICMP && length >= Icmp.HEADER_LENGTH && (mask & FIX_TRANSPORT_CHECKSUM) != 0) {
            Icmp.finish(s, off, length);
        }
    }

    private static byte[] pattern(int length, int step) {
        byte[] b = new byte[length];
        for (int i = 0; i < length; i++) {
            b[i] = (byte) (i * step);
        }
        return b;
    }
}
