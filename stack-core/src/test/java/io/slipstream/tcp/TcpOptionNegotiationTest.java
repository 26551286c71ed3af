package io.slipstream.tcp;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.slipstream.testing.TcpTestNetwork;
import io.slipstream.wire.Tcp;
import io.slipstream.wire.TcpOptions;
import io.slipstream.wire.Ipv4;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** RFC 7323 window scaling, timestamps, PAWS; the MSS option. */
class TcpOptionNegotiationTest {

    @Test
    void rfc7323_windowScaleNegotiatedAndApplied() {
        try (TcpTestNetwork net = new TcpTestNetwork(50, TcpFixtures.config("rcvbuf", "1048576", "rcvbuf.max", "1048576", "sndbuf", "1048576"))) {
            TcpConnection[] c = TcpFixtures.connect(net);
            assertEquals(5, c[0].receiveWindowScale(), "a 1 MiB maximum needs a shift of 5 to fit 16 bits");
            assertEquals(5, c[1].sendWindowScale());
            assertEquals(5, c[1].receiveWindowScale());
            TcpOptions synOpts = net.captured().get(0).options();
            assertEquals(5, synOpts.windowScale);
            byte[] data = TcpFixtures.pattern(2_000_000, 3);
            assertArrayEquals(data, TcpFixtures.transfer(net, c[0], c[1], data, 60_000));
            assertTrue(c[0].sndWnd() > 65535, "the peer's window exceeds 16 bits once scaled: " + c[0].sndWnd());
        }
    }

    @Test
    void rfc7323_receiveWindowAutoTunesWithinTheBuffer() {
        try (TcpTestNetwork net = new TcpTestNetwork(56, TcpFixtures.config("rcvbuf", "1048576", "rcvbuf.max", "1048576", "sndbuf", "1048576"))) {
            net.delay(10, 0);
            TcpConnection[] c = TcpFixtures.connect(net);
            assertEquals(TcpConnection.INITIAL_WINDOW_LIMIT, c[1].receiveWindowLimit(), "starts small");
            assertTrue(c[1].receiveWindow() <= TcpConnection.INITIAL_WINDOW_LIMIT);
            TcpFixtures.transfer(net, c[0], c[1], new byte[8_000_000], 600_000);
            assertTrue(c[1].receiveWindowLimit() > 4 * TcpConnection.INITIAL_WINDOW_LIMIT,
                    "grew with a reader that keeps up: " + c[1].receiveWindowLimit());
            assertTrue(c[1].receiveWindowLimit() <= 1048576, "never beyond the buffer");
        }
        try (TcpTestNetwork net = new TcpTestNetwork(57, TcpFixtures.config())) {
            TcpConnection[] c = TcpFixtures.connect(net, TcpConnectOptions.DEFAULT.withBuffers(300_000, 300_000));
            assertEquals(300_000, c[1].receiveWindowLimit(), "an explicit SO_RCVBUF turns tuning off");
        }
    }

    @Test
    void rfc7323_timestampsAreEchoed() {
        try (TcpTestNetwork net = new TcpTestNetwork(51, TcpFixtures.config())) {
            TcpConnection[] c = TcpFixtures.connect(net);
            assertTrue(c[0].timestampsEnabled() && c[1].timestampsEnabled());
            net.clearCaptured();
            TcpFixtures.transfer(net, c[0], c[1], TcpFixtures.pattern(50_000, 4), 10_000);
            Set<Integer> sentTsVals = new HashSet<>();
            int echoes = 0;
            for (TcpTestNetwork.Segment s : net.captured()) {
                TcpOptions o = s.options();
                assertTrue(o.hasTimestamps, "every segment carries timestamps: " + s);
                if (s.fromA()) {
                    sentTsVals.add(o.tsVal);
                } else {
                    assertTrue(sentTsVals.contains(o.tsEcr), "TSecr echoes a TSval A sent: " + s);
                    echoes++;
                }
            }
            assertTrue(echoes > 0);
            assertTrue(c[0].smoothedRttNanos() > 0, "RTT measured from timestamps");
        }
    }

    @Test
    void rfc7323_pawsDropsOldTimestamp() {
        try (TcpTestNetwork net = new TcpTestNetwork(52, TcpFixtures.config())) {
            TcpConnection[] c = TcpFixtures.connect(net);
            TcpOptions o = new TcpOptions();
            o.hasTimestamps = true;
            o.tsVal = c[0].tsRecent() - 1000;
            o.tsEcr = 0;
            net.clearCaptured();
            TcpFixtures.inject(net, c[0], c[0].rcvNxt(), c[0].sndNxt(), Tcp.ACK, 1000, o, new byte[50]);
            assertEquals(0, c[0].available(), "the old duplicate's data is not delivered");
            assertEquals(1, net.a.layer.counters().get(TcpCounter.DROP_PAWS));
            assertEquals(1, TcpFixtures.sentBy(net, c[0]).size(), "an ACK answers it");
            o.tsVal = c[0].tsRecent() + 1;
            TcpFixtures.inject(net, c[0], c[0].rcvNxt(), c[0].sndNxt(), Tcp.ACK, 1000, o, new byte[50]);
            assertEquals(50, c[0].available(), "a newer timestamp passes");
        }
    }

    /**
     * A forged segment inside the window but acknowledging data never sent is dropped; its
     * timestamp must not become TS.Recent, or every genuine segment after it would fail PAWS
     * (found by TcpStatefulProperties: a connection stuck in LAST_ACK behind a zero window).
     */
    @Test
    void rfc7323_forgedSegmentWithUnacceptableAckDoesNotMoveTsRecent() {
        try (TcpTestNetwork net = new TcpTestNetwork(54, TcpFixtures.config())) {
            TcpConnection[] c = TcpFixtures.connect(net);
            int recent = c[0].tsRecent();
            TcpOptions forged = new TcpOptions();
            forged.hasTimestamps = true;
            forged.tsVal = recent + 1_000_000_000; // far in the future of the peer's clock
            forged.tsEcr = 0;
            TcpFixtures.inject(net, c[0], c[0].rcvNxt(), c[0].sndMax() + 100_000, Tcp.ACK, 1000, forged, new byte[0]);
            assertEquals(recent, c[0].tsRecent(), "TS.Recent untouched by a segment that was dropped");
            assertEquals(1, net.a.layer.counters().get(TcpCounter.DROP_BAD_ACK));
            byte[] data = TcpFixtures.pattern(20_000, 9);
            assertArrayEquals(data, TcpFixtures.transfer(net, c[1], c[0], data, 10_000),
                    "the genuine peer's segments still pass PAWS");
            assertEquals(0, net.a.layer.counters().get(TcpCounter.DROP_PAWS));
        }
    }

    @Test
    void rfc7323_optionsOffWhenPeerDoesNotOfferThem() {
        try (TcpTestNetwork net = new TcpTestNetwork(53, TcpFixtures.config(),
                TcpFixtures.config("timestamps", "false", "window.scaling", "false", "sack", "false"))) {
            TcpConnection[] c = TcpFixtures.connect(net);
            assertFalse(c[0].timestampsEnabled());
            assertFalse(c[0].sackEnabled());
            assertEquals(0, c[0].receiveWindowScale());
            assertEquals(0, c[0].sendWindowScale());
            TcpOptions synAck = net.captured().get(1).options();
            assertFalse(synAck.hasTimestamps || synAck.sackPermitted || synAck.windowScale >= 0);
            byte[] data = TcpFixtures.pattern(100_000, 5);
            assertArrayEquals(data, TcpFixtures.transfer(net, c[0], c[1], data, 10_000));
            for (TcpTestNetwork.Segment s : net.captured()) {
                assertFalse(!s.has(Tcp.SYN) && s.options().hasTimestamps, "no timestamps once declined");
            }
        }
    }

    @Test
    void rfc9293_mssOptionFollowsRouteMtu() {
        try (TcpTestNetwork net = new TcpTestNetwork(54, TcpFixtures.config())) {
            net.mtu(1000);
            TcpConnection[] c = TcpFixtures.connect(net);
            assertEquals(960, net.captured().get(0).options().mss, "MTU 1000 - 40");
            assertEquals(948, c[0].mss(), "960 less 12 bytes of timestamp option");
            TcpFixtures.transfer(net, c[0], c[1], TcpFixtures.pattern(40_000, 6), 10_000);
            for (TcpTestNetwork.Segment s : net.captured()) {
                assertTrue(s.payloadLength() <= 948, "segment fits the MSS: " + s);
            }
        }
    }

    /**
     * RFC 9293 §3.7.1: the effective send MSS counts every TCP option, and RFC 2018 §4 puts SACK
     * blocks on every segment while out-of-order data waits, data segments included. So B,
     * holding a hole in A's stream while it sends a bulk stream of its own, must shrink its
     * payload by the SACK option: a full 1448-byte payload plus timestamps and one block is a
     * 1512-byte datagram, which a real IP layer refuses with DF set (TCP always sets it) and
     * which the link would never deliver, so every retransmission would fail the same way.
     */
    @Test
    void rfc9293_dataSegmentsCarryingSackBlocksStillFitTheMtu() {
        try (TcpTestNetwork net = new TcpTestNetwork(56, TcpFixtures.config())) {
            TcpConnection[] c = TcpFixtures.connect(net);
            c[0].noDelay(true);
            c[1].noDelay(true);
            // A's first data segment is lost: B holds the rest out of order
            int firstData = c[0].sndMax();
            int[] drops = new int[1];
            net.dropFilter = s -> s.fromA() && s.payloadLength() > 0 && s.seq() == firstData && drops[0]++ == 0;
            c[0].send(java.nio.ByteBuffer.wrap(TcpFixtures.pattern(3 * c[0].mss(), 1)));
            net.runFor(1);
            net.clearCaptured();
            byte[] bulk = TcpFixtures.pattern(20 * c[1].mss(), 2);
            c[1].send(java.nio.ByteBuffer.wrap(bulk));
            net.runFor(1);
            List<TcpTestNetwork.Segment> withSack = net.captured().stream()
                    .filter(s -> !s.fromA() && s.payloadLength() > 0 && s.options().sackBlockCount > 0).toList();
            assertFalse(withSack.isEmpty(), "B's data segments report the hole");
            for (TcpTestNetwork.Segment s : net.captured()) {
                assertTrue(Ipv4.MIN_HEADER_LENGTH + s.bytes().length <= 1500, "datagram fits the MTU: " + s);
            }
            assertEquals(1448 - 12, withSack.get(0).payloadLength(), "the payload gave up the SACK option's 12 bytes");
            assertArrayEquals(bulk, readAll(net, c[0], bulk.length), "and all of it arrives");
        }
    }

    private static byte[] readAll(TcpTestNetwork net, TcpConnection c, int n) {
        java.nio.ByteBuffer got = java.nio.ByteBuffer.allocate(n);
        assertTrue(net.runUntil(() -> {
            c.receive(got);
            return !got.hasRemaining();
        }, 60_000));
        return got.array();
    }

    @Test
    void rfc9293_missingMssOptionMeans536() {
        try (TcpTestNetwork net = new TcpTestNetwork(55, TcpFixtures.config())) {
            TcpListener l = net.b.layer.listen(TcpFixtures.PORT, 4);
            net.b.receive(TcpTestNetwork.ADDRESS_A, TcpTestNetwork.craft(TcpTestNetwork.ADDRESS_A,
                    TcpTestNetwork.ADDRESS_B, 4000, TcpFixtures.PORT, 1, 0, Tcp.SYN, 8000, null, new byte[0]));
            TcpTestNetwork.Segment synAck = net.captured().get(0);
            net.b.receive(TcpTestNetwork.ADDRESS_A, TcpTestNetwork.craft(TcpTestNetwork.ADDRESS_A,
                    TcpTestNetwork.ADDRESS_B, 4000, TcpFixtures.PORT, 2, synAck.seq() + 1, Tcp.ACK, 8000, null, new byte[0]));
            TcpConnection s = l.accept();
            assertEquals(536, s.mss());
        }
    }
}
