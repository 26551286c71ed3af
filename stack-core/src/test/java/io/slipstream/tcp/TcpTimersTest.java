package io.slipstream.tcp;

import static io.slipstream.tcp.TcpFixtures.PORT;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.slipstream.testing.TcpTestNetwork;
import io.slipstream.wire.Tcp;
import java.nio.ByteBuffer;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Delayed ACK, Nagle, keepalive, persist, silly-window avoidance, TIME-WAIT reuse, SO_LINGER. */
class TcpTimersTest {

    private static List<TcpTestNetwork.Segment> acksFromB(TcpTestNetwork net) {
        return net.captured().stream().filter(s -> !s.fromA() && s.payloadLength() == 0).toList();
    }

    @Test
    void rfc1122_delayedAckEverySecondFullSegment() {
        try (TcpTestNetwork net = new TcpTestNetwork(70, TcpFixtures.config("quickack.segments", "0"))) {
            TcpConnection[] c = TcpFixtures.connect(net);
            c[0].noDelay(true);
            net.clearCaptured();
            c[0].send(ByteBuffer.wrap(new byte[2 * c[0].mss()]));
            net.runFor(1);
            List<TcpTestNetwork.Segment> acks = acksFromB(net);
            assertEquals(1, acks.size(), "one ACK for two full segments, at once");
            assertEquals(c[0].sndNxt(), acks.get(0).ack());
        }
    }

    @Test
    void rfc1122_delayedAckTimerIsFortyMilliseconds() {
        try (TcpTestNetwork net = new TcpTestNetwork(71, TcpFixtures.config("quickack.segments", "0"))) {
            TcpConnection[] c = TcpFixtures.connect(net);
            net.clearCaptured();
            c[0].send(ByteBuffer.wrap(new byte[100]));
            long sent = net.clock.nanoTime();
            net.runFor(39);
            assertEquals(0, acksFromB(net).size(), "held back for the delayed-ACK timer");
            net.runFor(10);
            List<TcpTestNetwork.Segment> acks = acksFromB(net);
            assertEquals(1, acks.size());
            assertEquals(sent + 1_000_000L + 40_000_000L, acks.get(0).sentAtNanos(), "arrival + 40 ms");
        }
    }

    @Test
    void rfc1122_quickAckAtConnectionStart() {
        try (TcpTestNetwork net = new TcpTestNetwork(72, TcpFixtures.config())) {
            TcpConnection[] c = TcpFixtures.connect(net);
            net.clearCaptured();
            c[0].send(ByteBuffer.wrap(new byte[100]));
            net.runFor(3);
            assertEquals(1, acksFromB(net).size(), "the first segments are ACKed at once");
        }
    }

    /** Client and server with a few request/response exchanges behind them: interactive. */
    private static TcpConnection[] interactivePair(TcpTestNetwork net) {
        TcpConnection[] c = TcpFixtures.connect(net, TcpConnectOptions.DEFAULT.withNoDelay(true));
        for (int i = 0; i < 3; i++) {
            TcpFixtures.exchange(net, c[0], c[1], 300, 1000);
        }
        net.clearCaptured();
        return c;
    }

    /**
     * Interactive mode ends when its delayed ACK is missed, as Linux leaves "pingpong" mode: a
     * request whose answer takes longer than the delayed-ACK timeout is ACKed by the timer,
     * 40 ms after it arrived, and the next request is ACKed at once again (the quick-ACK start
     * is not spent); an answer within the timeout makes the exchange interactive again.
     */
    @Test
    void rfc1122_missedDelayedAckLeavesInteractiveMode() {
        try (TcpTestNetwork net = new TcpTestNetwork(84, TcpFixtures.config())) {
            TcpConnection[] c = interactivePair(net);
            TcpFixtures.exchangeAnsweredAfter(net, c[0], c[1], 100, 300, 1000); // the answer takes 100 ms
            TcpTestNetwork.Segment request = TcpFixtures.sentBy(net, c[0]).get(0);
            List<TcpTestNetwork.Segment> acks = TcpFixtures.pureAcksBy(net, c[1]);
            assertEquals(1, acks.size(), "the timer ACKs the request: " + acks);
            assertEquals(request.sentAtNanos() + 1_000_000L + 40_000_000L, acks.get(0).sentAtNanos(), "arrival + 40 ms");
            net.clearCaptured();
            TcpFixtures.exchange(net, c[0], c[1], 300, 1000);
            assertEquals(1, TcpFixtures.pureAcksBy(net, c[1]).size(), "no longer interactive: ACKed at once");
            net.clearCaptured();
            TcpFixtures.exchange(net, c[0], c[1], 300, 1000);
            assertEquals(List.of(), TcpFixtures.pureAcksBy(net, c[1]), "answered in time: interactive again");
        }
    }

    /**
     * RFC 5681 §4.2 holds in interactive mode too: at least every second full-sized segment is
     * ACKed at once, and so is out-of-order data (a duplicate ACK) and data filling the hole.
     */
    @Test
    void rfc5681_interactiveModeStillAcksEverySecondFullSegmentAndOutOfOrderData() {
        try (TcpTestNetwork net = new TcpTestNetwork(85, TcpFixtures.config())) {
            TcpConnection[] c = interactivePair(net);
            int mss = c[0].mss();
            TcpFixtures.exchange(net, c[0], c[1], 3 * mss, 1000);
            List<TcpTestNetwork.Segment> acks = TcpFixtures.pureAcksBy(net, c[1]);
            assertEquals(1, acks.size(), "the second full segment is ACKed at once: " + acks);
            assertEquals(TcpFixtures.sentBy(net, c[0]).get(1).seq() + mss, acks.get(0).ack());
            net.clearCaptured();
            boolean[] dropped = {false};
            net.dropFilter = s -> s.fromA() && s.payloadLength() > 0 && !dropped[0] && (dropped[0] = true);
            TcpFixtures.exchange(net, c[0], c[1], 2 * mss, 1000); // the first segment is lost, then resent
            acks = TcpFixtures.pureAcksBy(net, c[1]);
            assertEquals(2, acks.size(), "a duplicate ACK for the out-of-order segment, an ACK for the repair: " + acks);
            assertTrue(acks.get(0).options().sackBlockCount > 0, "the duplicate ACK reports the segment it got");
            assertEquals(acks.get(1).ack(), c[1].rcvNxt());
        }
    }

    /**
     * TCP_QUICKACK as on Linux: false enters the delayed-ACK ("pingpong") mode at once, even in
     * the quick-ACK start; the stack leaves it on its own when a delayed ACK is missed; true
     * ACKs what is pending and restarts the quick-ACK start.
     */
    @Test
    void rfc1122_tcpQuickAckSwitchesDelayedAcks() {
        try (TcpTestNetwork net = new TcpTestNetwork(86, TcpFixtures.config())) {
            TcpConnection[] c = TcpFixtures.connect(net);
            assertTrue(c[1].quickAck());
            c[1].quickAck(false);
            assertFalse(c[1].quickAck());
            net.clearCaptured();
            c[0].send(ByteBuffer.wrap(new byte[100]));
            net.runFor(39);
            assertEquals(List.of(), TcpFixtures.pureAcksBy(net, c[1]), "delayed although in the quick-ACK start");
            net.runFor(10);
            assertEquals(1, TcpFixtures.pureAcksBy(net, c[1]).size(), "the timer ACKed");
            assertTrue(c[1].quickAck(), "the missed delayed ACK ended the mode, as on Linux");
            c[1].quickAck(false);
            net.clearCaptured();
            c[0].send(ByteBuffer.wrap(new byte[100]));
            net.runFor(5);
            assertEquals(List.of(), TcpFixtures.pureAcksBy(net, c[1]));
            c[1].quickAck(true);
            assertEquals(1, TcpFixtures.pureAcksBy(net, c[1]).size(), "true ACKs what is pending at once");
            c[0].send(ByteBuffer.wrap(new byte[100]));
            net.runFor(5);
            assertEquals(2, TcpFixtures.pureAcksBy(net, c[1]).size(), "and ACKs at once again");
        }
    }

    @Test
    void rfc1122_nagleHoldsSmallSegmentsWhileDataIsUnacknowledged() {
        try (TcpTestNetwork net = new TcpTestNetwork(73, TcpFixtures.config())) {
            TcpConnection[] c = TcpFixtures.connect(net);
            net.clearCaptured();
            for (int i = 0; i < 3; i++) {
                c[0].send(ByteBuffer.wrap(new byte[10]));
            }
            List<TcpTestNetwork.Segment> before = TcpFixtures.sentBy(net, c[0]);
            assertEquals(1, before.size(), "only the first small segment goes out");
            net.runFor(10);
            List<TcpTestNetwork.Segment> after = TcpFixtures.sentBy(net, c[0]);
            assertEquals(2, after.size());
            assertEquals(20, after.get(1).payloadLength(), "the rest coalesced after the ACK");
        }
    }

    @Test
    void rfc1122_noDelaySendsEachWriteAtOnce() {
        try (TcpTestNetwork net = new TcpTestNetwork(74, TcpFixtures.config())) {
            TcpConnection[] c = TcpFixtures.connect(net, TcpConnectOptions.DEFAULT.withNoDelay(true));
            net.clearCaptured();
            for (int i = 0; i < 3; i++) {
                c[0].send(ByteBuffer.wrap(new byte[10]));
            }
            assertEquals(3, TcpFixtures.sentBy(net, c[0]).size());
        }
    }

    @Test
    void rfc1122_keepAliveProbesIdleConnectionAndTimesOut() {
        try (TcpTestNetwork net = new TcpTestNetwork(75, TcpFixtures.config())) {
            TcpConnection[] c = TcpFixtures.connect(net);
            c[0].keepAlive(true, 1000, 100, 3);
            net.clearCaptured();
            net.runFor(1500);
            assertTrue(net.a.layer.counters().get(TcpCounter.KEEP_ALIVE_PROBES) >= 1);
            TcpTestNetwork.Segment probe = TcpFixtures.sentBy(net, c[0]).get(0);
            assertEquals(c[0].sndUna() - 1, probe.seq(), "a probe carries an old sequence number");
            assertEquals(TcpState.ESTABLISHED, c[0].state(), "answered probes keep it alive");
            net.dropFilter = s -> !s.fromA();
            net.runFor(5000);
            assertEquals(TcpState.CLOSED, c[0].state());
            assertEquals(TcpError.TIMED_OUT, c[0].pendingError());
        }
    }

    @Test
    void rfc9293_zeroWindowIsProbedByPersistTimerUntilItOpens() {
        try (TcpTestNetwork net = new TcpTestNetwork(76, TcpFixtures.config())) {
            TcpFixtures.Accepted t = TcpFixtures.accept(net, 0, TcpConnectOptions.DEFAULT.withBuffers(4096, 4096));
            byte[] data = TcpFixtures.pattern(20_000, 7);
            ByteBuffer src = ByteBuffer.wrap(data);
            t.client().send(src);
            net.runFor(600_000); // ten minutes with a reader that does not read
            assertEquals(0, t.client().sndWnd());
            assertTrue(net.a.layer.counters().get(TcpCounter.ZERO_WINDOW_PROBES) >= 5);
            assertEquals(TcpState.ESTABLISHED, t.client().state(), "the persist timer never gives up");
            ByteBuffer got = ByteBuffer.allocate(data.length);
            assertTrue(net.runUntil(() -> {
                t.client().send(src);
                t.server().receive(got);
                return !got.hasRemaining();
            }, 600_000));
            assertArrayEquals(data, got.array());
        }
    }

    /**
     * The run that once broke {@code TcpStreamProperties.streamsArriveIntactWithSmallBuffers}
     * ("outstanding 3 wnd 0 … CLOSE_WAIT"), step by step. A half-closes and its FIN is lost; A's
     * pure ACKs now carry SEQ = FIN + 1 while the repeated FIN carries SEQ = FIN. So a zero-window
     * ACK sent in the same millisecond as the repeated FIN (same TSval, so PAWS cannot tell them
     * apart) but delivered after it passes the window-update test of RFC 9293 §3.10.7.4
     * (SND.WL1 < SEG.SEQ) and shrinks B's view of the window to zero under three bytes in flight.
     * RFC 9293 §3.8.6 requires the sender to be robust against that (MUST-34), not to time the
     * connection out over data beyond the window (SHLD-17) and to probe a zero window (MUST-35):
     * B must probe, learn that the window is open, and resend the three bytes.
     */
    @Test
    void rfc9293_windowShrunkToZeroUnderDataInFlightIsProbedNotTimedOut() {
        try (TcpTestNetwork net = new TcpTestNetwork(79, TcpFixtures.config("retries", "3"))) {
            TcpInvariants inv = new TcpInvariants(net);
            TcpConnection[] c = TcpFixtures.connect(net, TcpConnectOptions.DEFAULT.withBuffers(1024, 4096));
            TcpConnection a = c[0];
            TcpConnection b = c[1];
            b.noDelay(true);
            // A half-closes; its first FIN is lost
            net.dropFilter = s -> s.fromA() && s.has(Tcp.FIN);
            a.shutdownOutput();
            int fin = a.sndMax() - 1;
            long finRetransmitAt = net.a.timers.nextDeadline();
            // B fills A's window (one segment) just as A repeats its FIN; A's pure ACKs are
            // lost, and the zero-window one is kept to be delivered late
            byte[][] stale = new byte[1][];
            net.dropFilter = s -> {
                boolean pureAck = s.fromA() && s.payloadLength() == 0 && !s.has(Tcp.FIN);
                if (pureAck && s.window() == 0 && stale[0] == null) {
                    stale[0] = s.bytes();
                }
                return pureAck;
            };
            net.runUntilTime(finRetransmitAt - 1_000_000); // one link delay before
            b.send(ByteBuffer.wrap(TcpFixtures.pattern(1024, 1)));
            ByteBuffer sink = ByteBuffer.allocate(4096);
            Runnable check = net.afterEachEvent;
            net.afterEachEvent = () -> {
                check.run();
                if (a.available() == 1024) {
                    a.receive(sink); // A's reader empties the buffer: a window update (lost)
                }
            };
            assertTrue(net.runUntil(() -> b.state() == TcpState.CLOSE_WAIT, 10_000), "the repeated FIN got through");
            assertEquals(1024, sink.position());
            assertTrue(stale[0] != null, "A announced a zero window");
            TcpTestNetwork.Segment held = new TcpTestNetwork.Segment(TcpTestNetwork.ADDRESS_A, TcpTestNetwork.ADDRESS_B,
                    0, stale[0]);
            assertEquals(fin + 1, held.seq(), "the held ACK is numbered after the FIN");
            assertEquals(b.sndMax(), b.sndUna(), "the repeated FIN acknowledged all data");
            assertEquals(1024, b.sndWnd(), "and carried the open window");
            // B sends three bytes, which are lost; then the stale zero-window ACK arrives
            net.dropFilter = s -> !s.fromA() && s.payloadLength() > 0;
            byte[] three = {1, 2, 3};
            b.send(ByteBuffer.wrap(three));
            net.runFor(1);
            net.dropFilter = s -> false;
            net.b.receive(TcpTestNetwork.ADDRESS_A, stale[0]);
            assertEquals(0, b.sndWnd(), "B now believes the window is zero");
            assertEquals(3, b.sndMax() - b.sndUna(), "with three bytes beyond it");
            inv.check(); // allowed (MUST-34): nothing new was sent beyond the window
            // B probes instead of giving up; A answers with its open window and B resends
            ByteBuffer got = ByteBuffer.allocate(16);
            assertTrue(net.runUntil(() -> {
                a.receive(got);
                return got.position() == 3;
            }, 600_000), "the three bytes arrive: " + b + " " + b.debugState() + " " + net.b.layer.counters());
            assertArrayEquals(three, java.util.Arrays.copyOf(got.array(), 3));
            assertEquals(null, b.pendingError());
            assertEquals(0, net.b.layer.counters().get(TcpCounter.CONNECTIONS_TIMED_OUT));
            assertTrue(net.b.layer.counters().get(TcpCounter.ZERO_WINDOW_PROBES) > 0, "the shrunken window was probed");
            TcpFixtures.closeBoth(net, a, b);
            inv.check();
        }
    }

    @Test
    void rfc9293_receiverAvoidsSillyWindowUpdates() {
        try (TcpTestNetwork net = new TcpTestNetwork(77, TcpFixtures.config())) {
            TcpFixtures.Accepted t = TcpFixtures.accept(net, 0, TcpConnectOptions.DEFAULT.withBuffers(8192, 8192));
            t.client().send(ByteBuffer.wrap(new byte[20_000]));
            net.runFor(3000); // the sender's SWS override timer fills the last small window
            assertEquals(0, t.server().receiveWindow(), "full");
            net.clearCaptured();
            t.server().receive(ByteBuffer.allocate(100));
            net.runFor(1);
            assertEquals(0, TcpFixtures.sentBy(net, t.server()).size(), "100 bytes is not worth announcing");
            t.server().receive(ByteBuffer.allocate(4000));
            net.runFor(1);
            List<TcpTestNetwork.Segment> updates = TcpFixtures.sentBy(net, t.server());
            assertTrue(!updates.isEmpty() && updates.get(0).window() > 0, "a useful window is announced");
        }
    }

    @Test
    void rfc7323_timeWaitIsReusedForNewConnectWithTimestamps() {
        try (TcpTestNetwork net = new TcpTestNetwork(78, TcpFixtures.config())) {
            TcpFixtures.Accepted t = TcpFixtures.accept(net, 41000, TcpConnectOptions.DEFAULT);
            t.client().close();
            net.runFor(10);
            t.server().close();
            net.runFor(10);
            assertEquals(TcpState.TIME_WAIT, t.client().state());
            assertThrows(IllegalStateException.class,
                    () -> net.a.layer.connect(TcpTestNetwork.ADDRESS_B, PORT, 41000, TcpConnectOptions.DEFAULT),
                    "too soon after the last timestamp");
            net.runFor(1500);
            TcpConnection second = net.a.layer.connect(TcpTestNetwork.ADDRESS_B, PORT, 41000, TcpConnectOptions.DEFAULT);
            assertEquals(1, net.a.layer.counters().get(TcpCounter.TIME_WAIT_REUSED));
            assertTrue(net.runUntil(() -> second.state() == TcpState.ESTABLISHED && t.listener().acceptable(), 1000));
            assertEquals(41000, t.listener().accept().remotePort());
        }
    }

    @Test
    void rfc9293_lingerZeroClosesWithRst() {
        try (TcpTestNetwork net = new TcpTestNetwork(79, TcpFixtures.config())) {
            TcpConnection[] c = TcpFixtures.connect(net);
            c[0].linger(0);
            net.clearCaptured();
            c[0].close();
            assertTrue(TcpFixtures.sentBy(net, c[0]).get(0).has(Tcp.RST));
            assertEquals(TcpState.CLOSED, c[0].state());
            assertResetReaches(net, c[1]);
        }
    }

    @Test
    void rfc9293_lingerBoundsTheCloseWait() {
        try (TcpTestNetwork net = new TcpTestNetwork(80, TcpFixtures.config())) {
            TcpConnection[] c = TcpFixtures.connect(net);
            c[0].linger(2);
            net.dropFilter = TcpTestNetwork.Segment::fromA;
            c[0].send(ByteBuffer.wrap(new byte[1000]));
            c[0].close();
            net.runFor(1990);
            assertEquals(TcpState.FIN_WAIT_1, c[0].state());
            net.runFor(20);
            assertEquals(TcpState.CLOSED, c[0].state(), "aborted when the linger time ran out");
            assertTrue(net.a.layer.counters().get(TcpCounter.RESETS_SENT) >= 1);
        }
    }

    @Test
    void rfc2525_closeWithUnreadDataSendsRst() {
        try (TcpTestNetwork net = new TcpTestNetwork(81, TcpFixtures.config())) {
            TcpConnection[] c = TcpFixtures.connect(net);
            c[1].send(ByteBuffer.wrap(new byte[10]));
            net.runFor(10);
            c[0].close();
            assertResetReaches(net, c[1]);
        }
    }

    @Test
    void rfc9293_senderAvoidsSillyWindowSegments() {
        // a receive maximum of 64 KiB keeps B's window scale small enough to offer 100 bytes
        try (TcpTestNetwork net = new TcpTestNetwork(82, TcpFixtures.config("rcvbuf.max", "65536"))) {
            TcpConnection[] c = TcpFixtures.connect(net);
            TcpFixtures.transfer(net, c[0], c[1], new byte[100_000], 10_000); // SND.WND has been large
            net.dropFilter = s -> !s.fromA(); // B stays silent; the test speaks for it
            // the peer acknowledges everything but offers only 100 bytes
            TcpFixtures.inject(net, c[0], c[0].rcvNxt(), c[0].sndMax(), Tcp.ACK, 100 >> c[0].sendWindowScale(),
                    null, new byte[0]);
            long window = c[0].sndWnd();
            assertTrue(window > 0 && window <= 100);
            net.clearCaptured();
            c[0].send(ByteBuffer.wrap(new byte[5000]));
            net.runFor(100);
            assertEquals(0, TcpFixtures.sentBy(net, c[0]).size(), "no tiny segment into a tiny window");
            net.runFor(2000);
            List<TcpTestNetwork.Segment> sent = TcpFixtures.sentBy(net, c[0]);
            assertTrue(!sent.isEmpty(), "the override timer eventually sends");
            assertEquals(window, sent.get(0).payloadLength(), "exactly what the window takes");
        }
    }

    @Test
    void rfc6191_timeWaitAcceptsANewerSyn() {
        try (TcpTestNetwork net = new TcpTestNetwork(83, TcpFixtures.config())) {
            TcpFixtures.Accepted t = TcpFixtures.accept(net, 42000, TcpConnectOptions.DEFAULT);
            t.server().close(); // the server closes first and keeps the TIME-WAIT
            net.runFor(10);
            t.client().close();
            net.runFor(10);
            assertEquals(TcpState.TIME_WAIT, t.server().state());
            net.runFor(1500);
            TcpConnection again = net.a.layer.connect(TcpTestNetwork.ADDRESS_B, PORT, 42000, TcpConnectOptions.DEFAULT);
            assertTrue(net.runUntil(() -> again.state() == TcpState.ESTABLISHED && t.listener().acceptable(), 1000));
            assertEquals(1, net.b.layer.counters().get(TcpCounter.TIME_WAIT_REUSED),
                    "the SYN with a newer timestamp ended TIME-WAIT");
        }
    }

    /** The peer hears of the reset: within 10 ms its connection fails with RESET. */
    private static void assertResetReaches(TcpTestNetwork net, TcpConnection peer) {
        net.runFor(10);
        assertEquals(TcpError.RESET, peer.pendingError());
    }
}
