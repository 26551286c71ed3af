package io.slipstream.udp;

import static io.slipstream.testing.StackPair.A_ADDRESS;
import static io.slipstream.testing.StackPair.B_ADDRESS;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.slipstream.ip.IpCounter;
import io.slipstream.nic.NicCounter;
import io.slipstream.stack.Stack;
import io.slipstream.testing.StackPair;
import io.slipstream.wire.Ipv4Address;
import java.net.BindException;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.BitSet;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** UDP sockets between two stacks over the in-memory NIC. */
class UdpSocketTest {

    @Test
    void datagramsOfEverySizeArriveIntactWithTheirSource() throws BindException {
        try (StackPair p = StackPair.entered()) {
            UdpSocket server = bound(p.b, 5000);
            UdpSocket client = bound(p.a, 0);
            SplittableRandom random = new SplittableRandom(42);
            ByteBuffer in = ByteBuffer.allocate(70_000);
            for (int size : new int[] {0, 1, 7, 8, 9, 100, 1471, 1472, 1473, 2000, 2960, 2961, 9000, 30_000,
                    UdpSocket.MAX_PAYLOAD}) {
                byte[] payload = new byte[size];
                random.nextBytes(payload);
                assertEquals(size, client.send(ByteBuffer.wrap(payload), B_ADDRESS, 5000));
                in.clear();
                int[] got = {-1};
                p.runUntil(() -> (got[0] = server.receive(in)) >= 0);
                assertEquals(size, got[0]);
                assertArrayEquals(payload, Arrays.copyOf(in.array(), in.position()), "payload of " + size);
                assertEquals(A_ADDRESS, server.lastSourceAddress());
                assertEquals(client.localPort(), server.lastSourcePort());
            }
            // Everything above 1472 bytes crossed the link as fragments and was reassembled.
            assertTrue(p.a.ip().counters().get(IpCounter.TX_FRAGMENTS) > 0);
            assertEquals(7, p.b.ip().counters().get(IpCounter.REASSEMBLED), "the seven sizes above 1472 bytes");
            assertEquals(0, p.b.ip().reassembliesInProgress());
            p.assertHealthy();
        }
    }

    @Test
    void directBuffersAndTruncationBehaveLikeDatagramChannel() throws BindException {
        try (StackPair p = StackPair.entered()) {
            UdpSocket server = bound(p.b, 5001);
            UdpSocket client = p.a.udp().open();
            client.connect(B_ADDRESS, 5001);
            ByteBuffer out = ByteBuffer.allocateDirect(100);
            for (int i = 0; i < 100; i++) {
                out.put((byte) i);
            }
            out.flip();
            assertEquals(100, client.send(out, 0, 0));
            assertEquals(100, out.position());
            ByteBuffer small = ByteBuffer.allocateDirect(10);
            int[] got = {-1};
            p.runUntil(() -> (got[0] = server.receive(small)) >= 0);
            assertEquals(100, got[0], "receive reports the datagram's length");
            assertEquals(10, small.position(), "only what fits is copied; the rest is discarded");
            for (int i = 0; i < 10; i++) {
                assertEquals(i, small.get(i));
            }
            assertEquals(1, p.b.udp().counters().get(UdpCounter.TRUNCATED));
            assertEquals(-1, server.receive(small), "the truncated datagram is gone");
        }
    }

    @Test
    void rfc1122_portUnreachableIsReportedToTheConnectedSender() throws BindException {
        try (StackPair p = StackPair.entered()) {
            UdpSocket client = p.a.udp().open();
            client.connect(B_ADDRESS, 9999);
            client.send(ByteBuffer.wrap(new byte[] {1, 2, 3}), 0, 0);
            p.runUntil(client::isReadable);
            assertEquals(UdpSocket.Error.PORT_UNREACHABLE, client.takeError());
            assertNull(client.takeError(), "the error is reported once");
            assertEquals(1, p.b.udp().counters().get(UdpCounter.NO_PORT));
            assertEquals(1, p.b.ip().counters().get(IpCounter.ICMP_ERRORS_SENT));
            assertEquals(1, p.a.udp().counters().get(UdpCounter.ICMP_ERRORS_REPORTED));
        }
    }

    @Test
    void aFullReceiveBufferDropsAndCountsWithoutLeaking() throws BindException {
        try (StackPair p = StackPair.entered()) {
            UdpSocket server = p.b.udp().open();
            server.setReceiveBufferSize(16 * 2048);
            server.bind(5002);
            UdpSocket client = p.a.udp().open();
            client.connect(B_ADDRESS, 5002);
            for (int i = 0; i < 40; i++) {
                ByteBuffer d = ByteBuffer.allocate(4).putInt(0, i);
                while (client.send(d, 0, 0) == 0) {
                    p.poll();
                }
                p.settle();
            }
            assertEquals(24, server.drops());
            assertEquals(24, p.b.udp().counters().get(UdpCounter.RCVBUF_FULL));
            ByteBuffer in = ByteBuffer.allocate(8);
            for (int i = 0; i < 16; i++) {
                in.clear();
                assertEquals(4, server.receive(in));
                assertEquals(i, in.getInt(0), "the oldest datagrams were kept, in order");
            }
            assertEquals(-1, server.receive(in));
        }
    }

    @Test
    void bindConflictsAndMisuseFailClearly() throws BindException {
        try (StackPair p = StackPair.entered()) {
            UdpSocket one = bound(p.a, 6000);
            UdpSocket two = p.a.udp().open();
            BindException e = assertThrows(BindException.class, () -> two.bind(6000));
            assertTrue(e.getMessage().contains("6000"));
            assertThrows(IllegalStateException.class, () -> two.send(ByteBuffer.allocate(1), 0, 0));
            assertThrows(IllegalArgumentException.class,
                    () -> one.send(ByteBuffer.allocate(UdpSocket.MAX_PAYLOAD + 1), B_ADDRESS, 1));
            assertThrows(IllegalArgumentException.class, () -> one.connect(Ipv4Address.parse("198.19.5.5"), 9),
                    "no route: no gateway is configured");
            one.close();
            assertThrows(IllegalStateException.class, () -> one.receive(ByteBuffer.allocate(1)));
            two.bind(6000); // the port is free again after close
        }
    }

    /**
     * With 10% loss each way, UDP loses exactly what the link dropped: every datagram that the
     * sender's link did not drop arrives once, intact.
     */
    @Test
    void withTenPercentLossUdpLosesOnlyWhatTheLinkDropped() throws BindException {
        try (StackPair p = StackPair.entered(Map.of("slipstream.memory.loss", "0.1", "slipstream.memory.seed", "7"))) {
            UdpSocket server = bound(p.b, 5003);
            UdpSocket client = p.a.udp().open();
            client.connect(B_ADDRESS, 5003);
            // Resolve first (ARP itself crosses the lossy link and is retried) so that every
            // datagram below goes straight onto the link.
            int[] pong = {0};
            p.a.icmp().setEchoListener((src, id, seq, len, now) -> pong[0]++);
            p.runUntil(() -> {
                if (p.a.arp().lookup(B_ADDRESS) < 0 && p.a.arp().size() == 0) {
                    p.a.icmp().sendEcho(B_ADDRESS, 1, 1, 0);
                }
                return p.a.arp().lookup(B_ADDRESS) >= 0;
            }, 60_000_000_000L, 100_000_000L);
            p.settle();
            long droppedBefore = p.a.nic().stats().get(NicCounter.LINK_DROPS);
            int sent = 2000;
            BitSet received = new BitSet(sent);
            ByteBuffer in = ByteBuffer.allocate(64);
            for (int i = 0; i < sent; i++) {
                ByteBuffer d = ByteBuffer.allocate(32);
                d.putInt(0, i).putInt(28, ~i);
                while (client.send(d, 0, 0) == 0) {
                    p.poll();
                }
                p.settle();
                in.clear();
                while (server.receive(in) >= 0) {
                    int seq = in.getInt(0);
                    assertEquals(~seq, in.getInt(28), "payload intact");
                    assertTrue(!received.get(seq), "delivered once");
                    received.set(seq);
                    in.clear();
                }
            }
            long linkDrops = p.a.nic().stats().get(NicCounter.LINK_DROPS) - droppedBefore;
            assertTrue(linkDrops > 100 && linkDrops < 300, "about 10% dropped: " + linkDrops);
            assertEquals(sent - linkDrops, received.cardinality(), "only the link's drops are missing");
            assertEquals(received.cardinality(), p.b.udp().counters().get(UdpCounter.RX_DATAGRAMS));
            assertEquals(0, p.b.udp().counters().get(UdpCounter.RCVBUF_FULL));
            p.assertHealthy();
        }
    }

    @Test
    void closingTheStacksReturnsEveryBuffer() throws BindException {
        StackPair p = StackPair.entered();
        UdpSocket server = bound(p.b, 5004);
        UdpSocket client = p.a.udp().open();
        client.connect(B_ADDRESS, 5004);
        for (int i = 0; i < 20; i++) {
            client.send(ByteBuffer.allocate(3000), 0, 0); // queued unread, fragmented and reassembled
        }
        p.settle();
        p.close();
        assertEquals(java.util.List.of(), p.a.nic().buffers().leaks());
        assertEquals(java.util.List.of(), p.b.nic().buffers().leaks());
        assertEquals(0, p.a.outstandingJumboBuffers());
        assertEquals(0, p.b.outstandingJumboBuffers());
    }

    /** A socket of {@code stack} bound to {@code port} (0: an ephemeral one). */
    private static UdpSocket bound(Stack stack, int port) throws BindException {
        UdpSocket s = stack.udp().open();
        s.bind(port);
        return s;
    }
}
