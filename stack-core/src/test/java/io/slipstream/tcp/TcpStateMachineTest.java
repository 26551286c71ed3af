package io.slipstream.tcp;

import static io.slipstream.tcp.TcpFixtures.PORT;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.slipstream.testing.TcpTestNetwork;
import io.slipstream.wire.Tcp;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** RFC 9293's state machine: opening, closing, half-close, acceptability, resets, urgent data. */
class TcpStateMachineTest {

    @Test
    void rfc9293_threeWayHandshakeReachesEstablished() {
        try (TcpTestNetwork net = new TcpTestNetwork(10, TcpFixtures.config())) {
            List<String> transitions = new ArrayList<>();
            net.a.layer.stateObserver((c, f, t) -> transitions.add("A " + f + ">" + t));
            net.b.layer.stateObserver((c, f, t) -> transitions.add("B " + f + ">" + t));
            TcpConnection[] c = TcpFixtures.connect(net);
            List<TcpTestNetwork.Segment> s = net.captured();
            assertEquals(Tcp.SYN, s.get(0).flags() & (Tcp.SYN | Tcp.ACK));
            assertTrue(s.get(1).has(Tcp.SYN | Tcp.ACK));
            assertEquals(s.get(0).seq() + 1, s.get(1).ack());
            assertEquals(Tcp.ACK, s.get(2).flags() & (Tcp.SYN | Tcp.ACK));
            assertEquals(s.get(1).seq() + 1, s.get(2).ack());
            assertEquals(List.of("A CLOSED>SYN_SENT", "B LISTEN>SYN_RECEIVED", "A SYN_SENT>ESTABLISHED",
                    "B SYN_RECEIVED>ESTABLISHED"), transitions);
            assertTrue(c[0].connected() && c[1].connected());
        }
    }

    @Test
    void rfc9293_simultaneousOpen() {
        try (TcpTestNetwork net = new TcpTestNetwork(11, TcpFixtures.config())) {
            List<String> illegal = TcpFixtures.recordTransitions(net);
            List<TcpState> aStates = new ArrayList<>();
            net.a.layer.stateObserver((c, f, t) -> aStates.add(t));
            TcpConnection x = net.a.layer.connect(TcpTestNetwork.ADDRESS_B, 6000, 5000, TcpConnectOptions.DEFAULT);
            TcpConnection y = net.b.layer.connect(TcpTestNetwork.ADDRESS_A, 5000, 6000, TcpConnectOptions.DEFAULT);
            assertTrue(net.runUntil(() -> x.state() == TcpState.ESTABLISHED && y.state() == TcpState.ESTABLISHED, 10_000));
            assertEquals(List.of(TcpState.SYN_SENT, TcpState.SYN_RECEIVED, TcpState.ESTABLISHED), aStates);
            byte[] data = TcpFixtures.pattern(20_000, 1);
            assertArrayEquals(data, TcpFixtures.transfer(net, x, y, data, 10_000));
            TcpFixtures.closeBoth(net, x, y);
            assertTrue(illegal.isEmpty(), illegal::toString);
        }
    }

    @Test
    void rfc9293_simultaneousCloseGoesThroughClosing() {
        try (TcpTestNetwork net = new TcpTestNetwork(12, TcpFixtures.config())) {
            TcpConnection[] c = TcpFixtures.connect(net);
            List<TcpState> aStates = new ArrayList<>();
            c[0].stateObserver((x, f, t) -> aStates.add(t));
            c[0].shutdownOutput();
            c[1].shutdownOutput(); // both FINs cross on the wire
            net.runFor(100);
            assertEquals(List.of(TcpState.FIN_WAIT_1, TcpState.CLOSING, TcpState.TIME_WAIT), aStates);
            assertEquals(TcpState.TIME_WAIT, c[1].state());
        }
    }

    @Test
    void rfc9293_halfCloseStillDeliversData() {
        try (TcpTestNetwork net = new TcpTestNetwork(13, TcpFixtures.config())) {
            TcpConnection[] c = TcpFixtures.connect(net);
            c[0].shutdownOutput();
            net.runFor(50);
            assertEquals(TcpState.FIN_WAIT_2, c[0].state());
            assertEquals(TcpState.CLOSE_WAIT, c[1].state());
            assertEquals(-1, c[1].receive(ByteBuffer.allocate(10)), "EOF after the peer's FIN");
            byte[] data = TcpFixtures.pattern(50_000, 2);
            assertArrayEquals(data, TcpFixtures.transfer(net, c[1], c[0], data, 10_000));
            c[1].shutdownOutput();
            net.runFor(50);
            assertEquals(TcpState.TIME_WAIT, c[0].state());
            assertEquals(TcpState.CLOSED, c[1].state(), "LAST-ACK -> CLOSED on the ACK of its FIN");
            assertEquals(-1, c[0].receive(ByteBuffer.allocate(10)));
        }
    }

    @Test
    void rfc9293_timeWaitLastsTwoMsl() {
        try (TcpTestNetwork net = new TcpTestNetwork(14, TcpFixtures.config("msl.ms", "1000"))) {
            TcpConnection[] c = TcpFixtures.connect(net);
            c[0].shutdownOutput();
            c[1].shutdownOutput();
            net.runUntil(() -> c[0].state() == TcpState.TIME_WAIT, 1000);
            long entered = net.clock.nanoTime();
            net.runUntilTime(entered + 1_999_000_000L);
            assertEquals(TcpState.TIME_WAIT, c[0].state());
            net.runUntilTime(entered + 2_001_000_000L);
            assertEquals(TcpState.CLOSED, c[0].state());
            assertEquals(0, net.a.layer.connectionCount());
        }
    }

    @Test
    void rfc9293_closedPortAnswersSynWithRstAndConnectIsRefused() {
        try (TcpTestNetwork net = new TcpTestNetwork(15, TcpFixtures.config())) {
            TcpConnection c = net.a.layer.connect(TcpTestNetwork.ADDRESS_B, 9);
            net.runFor(100);
            assertEquals(TcpState.CLOSED, c.state());
            assertEquals(TcpError.REFUSED, c.pendingError());
            assertTrue(c.readable() && c.writable(), "an error makes the socket ready");
            assertEquals(1, net.b.layer.counters().get(TcpCounter.RESETS_SENT));
            assertEquals(1, net.a.layer.counters().get(TcpCounter.RESETS_RECEIVED));
            c.close();
        }
    }

    @Test
    void rfc9293_unacceptableSegmentIsAnsweredWithAckAndDropped() {
        try (TcpTestNetwork net = new TcpTestNetwork(16, TcpFixtures.config())) {
            TcpConnection[] c = TcpFixtures.connect(net);
            net.clearCaptured();
            TcpFixtures.inject(net, c[0], c[0].rcvNxt() + 10_000_000, c[0].sndNxt(), Tcp.ACK, 1000, null, new byte[100]);
            List<TcpTestNetwork.Segment> out = TcpFixtures.sentBy(net, c[0]);
            assertEquals(1, out.size());
            assertEquals(c[0].rcvNxt(), out.get(0).ack());
            assertEquals(0, c[0].available());
            assertEquals(1, net.a.layer.counters().get(TcpCounter.DROP_UNACCEPTABLE));
        }
    }

    @Test
    void rfc9293_ackOfUnsentDataIsDropped() {
        try (TcpTestNetwork net = new TcpTestNetwork(17, TcpFixtures.config())) {
            TcpConnection[] c = TcpFixtures.connect(net);
            net.clearCaptured();
            int before = c[0].sndUna();
            TcpFixtures.inject(net, c[0], c[0].rcvNxt(), c[0].sndNxt() + 5000, Tcp.ACK, 1000, null, new byte[10]);
            assertEquals(before, c[0].sndUna());
            assertEquals(0, c[0].available(), "the segment's data is not taken");
            assertEquals(1, net.a.layer.counters().get(TcpCounter.DROP_BAD_ACK));
            assertEquals(1, TcpFixtures.sentBy(net, c[0]).size(), "answered with an ACK");
        }
    }

    @Test
    void rfc9293_urgentDataIsDeliveredInLine() {
        try (TcpTestNetwork net = new TcpTestNetwork(18, TcpFixtures.config("timestamps", "false", "window.scaling", "false", "sack", "false"))) {
            TcpConnection[] c = TcpFixtures.connect(net);
            byte[] payload = "hello!".getBytes();
            byte[] seg = TcpTestNetwork.craft(c[0].remoteAddress(), c[0].localAddress(), c[0].remotePort(),
                    c[0].localPort(), c[0].rcvNxt(), c[0].sndNxt(), Tcp.ACK | Tcp.URG | Tcp.PSH, 1000, null, payload);
            io.slipstream.wire.Bytes.putU16(java.lang.foreign.MemorySegment.ofArray(seg), 18, 6);
            Tcp.writeChecksum(java.lang.foreign.MemorySegment.ofArray(seg), 0, seg.length, c[0].remoteAddress(),
                    c[0].localAddress());
            int start = c[0].rcvNxt();
            net.a.receive(c[0].remoteAddress(), seg);
            ByteBuffer got = ByteBuffer.allocate(16);
            assertEquals(6, c[0].receive(got));
            assertArrayEquals(payload, java.util.Arrays.copyOf(got.array(), 6));
            assertTrue(c[0].urgentDataReceived());
            assertEquals(start + 6, c[0].urgentPointer());
        }
    }

    @Test
    void rfc9293_abortSendsRstAndPeerSeesReset() {
        try (TcpTestNetwork net = new TcpTestNetwork(19, TcpFixtures.config())) {
            TcpConnection[] c = TcpFixtures.connect(net);
            c[0].abort();
            assertEquals(TcpState.CLOSED, c[0].state());
            net.runFor(10);
            assertEquals(TcpState.CLOSED, c[1].state());
            assertEquals(TcpError.RESET, c[1].pendingError());
            assertFalse(c[1].connected() && c[1].pendingError() == null);
            c[1].close();
        }
    }

    @Test
    void rfc9293_synRetransmittedWhenLostThenConnects() {
        try (TcpTestNetwork net = new TcpTestNetwork(20, TcpFixtures.config())) {
            int[] syns = {0};
            net.dropFilter = s -> s.has(Tcp.SYN) && !s.has(Tcp.ACK) && syns[0]++ < 2;
            TcpConnection[] c = TcpFixtures.connect(net);
            assertEquals(TcpState.ESTABLISHED, c[0].state());
            assertEquals(3, syns[0]);
            assertEquals(2, net.a.layer.counters().get(TcpCounter.RTO_EXPIRIES));
        }
    }

    @Test
    void rfc9293_lostSynAckIsResentWhenSynRepeats() {
        try (TcpTestNetwork net = new TcpTestNetwork(21, TcpFixtures.config())) {
            int[] synAcks = {0};
            net.dropFilter = s -> s.has(Tcp.SYN | Tcp.ACK) && synAcks[0]++ < 1;
            TcpConnection[] c = TcpFixtures.connect(net);
            assertEquals(TcpState.ESTABLISHED, c[1].state());
        }
    }

    @Test
    void rfc9293_listenerAnswersStrayAckWithRst() {
        try (TcpTestNetwork net = new TcpTestNetwork(22, TcpFixtures.config())) {
            net.b.layer.listen(PORT, 4);
            net.b.receive(TcpTestNetwork.ADDRESS_A, TcpTestNetwork.craft(TcpTestNetwork.ADDRESS_A, TcpTestNetwork.ADDRESS_B,
                    4444, PORT, 1000, 777, Tcp.ACK, 100, null, new byte[0]));
            TcpTestNetwork.Segment rst = net.captured().get(0);
            assertTrue(rst.has(Tcp.RST));
            assertEquals(777, rst.seq(), "RST carries SEQ = SEG.ACK");
        }
    }

    @Test
    void rfc9293_dataOnSynIsDeliveredAfterTheHandshake() {
        try (TcpTestNetwork net = new TcpTestNetwork(23, TcpFixtures.config())) {
            TcpListener l = net.b.layer.listen(PORT, 4);
            byte[] early = "early data".getBytes();
            net.b.receive(TcpTestNetwork.ADDRESS_A, TcpTestNetwork.craft(TcpTestNetwork.ADDRESS_A, TcpTestNetwork.ADDRESS_B,
                    4001, PORT, 1000, 0, Tcp.SYN, 8000, null, early));
            TcpTestNetwork.Segment synAck = net.captured().get(0);
            assertEquals(1000 + 1 + early.length, synAck.ack(), "the SYN-ACK acknowledges the data");
            assertFalse(l.acceptable(), "nothing to accept before the handshake completes");
            net.b.receive(TcpTestNetwork.ADDRESS_A, TcpTestNetwork.craft(TcpTestNetwork.ADDRESS_A, TcpTestNetwork.ADDRESS_B,
                    4001, PORT, 1001 + early.length, synAck.seq() + 1, Tcp.ACK, 8000, null, new byte[0]));
            TcpConnection server = l.accept();
            ByteBuffer got = ByteBuffer.allocate(64);
            assertEquals(early.length, server.receive(got));
            assertArrayEquals(early, java.util.Arrays.copyOf(got.array(), early.length));
        }
    }

    /**
     * RFC 9293 §3.10.7.4: the send window is taken from a segment when SND.WL1 < SEG.SEQ, or
     * SND.WL1 = SEG.SEQ and SND.WL2 ≤ SEG.ACK. A pure ACK repeating the handshake ACK's SEQ and
     * ACK with window 0 therefore closes the window: nothing is sent into it (§3.8.6, SHLD-15),
     * it is probed (MUST-35), and nothing is retransmitted on a timeout; once the peer answers a
     * probe with an open window the data goes.
     */
    @Test
    void rfc9293_windowUpdateWithEqualSeqAndAck() {
        try (TcpTestNetwork net = new TcpTestNetwork(24, TcpFixtures.config())) {
            TcpConnection[] c = TcpFixtures.connect(net);
            TcpConnection server = c[1];
            net.dropFilter = TcpTestNetwork.Segment::fromA; // the client stays silent; the test speaks for it
            TcpFixtures.inject(net, server, server.rcvNxt(), server.sndMax(), Tcp.ACK, 0, null, new byte[0]);
            assertEquals(0, server.sndWnd(), "the equal SEQ and ACK updated the window");
            net.clearCaptured();
            byte[] data = TcpFixtures.pattern(1000, 24);
            server.send(ByteBuffer.wrap(data));
            net.runFor(5_000);
            List<TcpTestNetwork.Segment> sent = TcpFixtures.sentBy(net, server);
            assertTrue(!sent.isEmpty() && sent.stream().allMatch(s -> s.payloadLength() == 0),
                    "only probes, nothing sent into the zero window: " + sent);
            assertTrue(net.b.layer.counters().get(TcpCounter.ZERO_WINDOW_PROBES) > 0);
            assertEquals(0, net.b.layer.counters().get(TcpCounter.RETRANSMITS));
            assertEquals(0, net.b.layer.counters().get(TcpCounter.RTO_EXPIRIES));
            net.dropFilter = s -> false; // the client answers the next probe with its open window
            ByteBuffer got = ByteBuffer.allocate(data.length);
            assertTrue(net.runUntil(() -> {
                c[0].receive(got);
                return !got.hasRemaining();
            }, 60_000), "the data goes once the window opens");
            assertArrayEquals(data, got.array());
        }
    }

    /**
     * RFC 9293 §3.10.7.4: with a zero receive window no data is acceptable, and an unacceptable
     * segment is answered with an ACK. A Linux sender probes a zero window with one new byte at
     * RCV.NXT (not with an old sequence number as Slipstream does); it must get an ACK carrying
     * the unchanged RCV.NXT and window 0, or it gives up on the connection after its retries.
     */
    @Test
    void rfc9293_zeroWindowProbeWithNewDataIsAnsweredWithAnAck() {
        try (TcpTestNetwork net = new TcpTestNetwork(25, TcpFixtures.config())) {
            TcpConnection[] c = TcpFixtures.connect(net, TcpConnectOptions.DEFAULT.withBuffers(4096, 4096));
            TcpConnection server = c[1];
            c[0].send(ByteBuffer.wrap(new byte[4096 + 1000]));
            net.runFor(1000); // the server does not read: its window closes
            assertEquals(0, server.receiveWindow());
            assertEquals(4096, server.available());
            net.dropFilter = TcpTestNetwork.Segment::fromA; // the test sends the probe
            net.clearCaptured();
            int rcvNxt = server.rcvNxt();
            TcpFixtures.inject(net, server, rcvNxt, server.sndMax(), Tcp.ACK, 1000, null, new byte[] {42});
            List<TcpTestNetwork.Segment> reply = TcpFixtures.sentBy(net, server);
            assertEquals(1, reply.size(), "the probe is answered at once: " + reply);
            assertTrue(reply.get(0).has(Tcp.ACK) && reply.get(0).payloadLength() == 0);
            assertEquals(rcvNxt, reply.get(0).ack(), "the byte beyond the window is not taken");
            assertEquals(0, reply.get(0).window());
            assertEquals(rcvNxt, server.rcvNxt());
            assertEquals(4096, server.available());
            assertEquals(1, net.b.layer.counters().get(TcpCounter.DROP_BEYOND_WINDOW));
        }
    }

    /**
     * RFC 1122 §4.2.2.13 (and RFC 2525 §2.17): new data arriving after the application called
     * close() cannot be delivered, so the TCP sends a RST to show that it was lost, rather than
     * acknowledging it as if it had been read. Old (duplicate) data draws no RST.
     */
    @Test
    void rfc1122_dataAfterCloseDrawsReset() {
        try (TcpTestNetwork net = new TcpTestNetwork(26, TcpFixtures.config())) {
            TcpConnection[] c = TcpFixtures.connect(net);
            TcpConnection client = c[0];
            TcpConnection server = c[1];
            byte[] early = TcpFixtures.pattern(100, 26);
            client.send(ByteBuffer.wrap(early));
            net.runFor(10);
            assertEquals(100, server.receive(ByteBuffer.allocate(200)));
            server.close();
            net.runFor(10);
            assertEquals(TcpState.FIN_WAIT_2, server.state());
            assertEquals(TcpState.CLOSE_WAIT, client.state());
            // a retransmission of data the application did read is old, not new: no RST
            TcpFixtures.inject(net, server, server.rcvNxt() - 100, server.sndMax(), Tcp.ACK, 1000, null, early);
            assertEquals(TcpState.FIN_WAIT_2, server.state());
            assertEquals(0, net.b.layer.counters().get(TcpCounter.RESETS_SENT));
            net.clearCaptured();
            client.send(ByteBuffer.wrap(new byte[10]));
            net.runFor(10);
            List<TcpTestNetwork.Segment> answer = TcpFixtures.sentBy(net, server);
            assertEquals(1, answer.size(), "one segment answers the data: " + answer);
            assertTrue(answer.get(0).has(Tcp.RST), "a RST, not an ACK: " + answer);
            assertEquals(TcpState.CLOSED, server.state());
            assertEquals(TcpError.RESET, client.pendingError(), "the sender learns its data was lost");
            assertEquals(1, net.b.layer.counters().get(TcpCounter.DROP_DATA_AFTER_CLOSE));
            assertEquals(0, net.a.layer.connectionCount() + net.b.layer.connectionCount());
        }
    }

    /**
     * A SYN that also carries FIN, to a listener: RFC 9293 §3.10.7.2 would queue the FIN for
     * after the handshake, Linux discards the segment (no SYN-ACK, no RST); Slipstream does as
     * Linux does, counts it, and the listener still takes ordinary SYNs.
     */
    @Test
    void rfc9293_synWithFinToAListenerIsDropped() {
        try (TcpTestNetwork net = new TcpTestNetwork(27, TcpFixtures.config())) {
            TcpListener l = net.b.layer.listen(PORT, 4);
            net.b.receive(TcpTestNetwork.ADDRESS_A, TcpTestNetwork.craft(TcpTestNetwork.ADDRESS_A, TcpTestNetwork.ADDRESS_B,
                    4002, PORT, 5000, 0, Tcp.SYN | Tcp.FIN, 8000, null, new byte[0]));
            assertEquals(List.of(), net.captured(), "neither a SYN-ACK nor a RST");
            assertEquals(0, net.b.layer.connectionCount());
            assertEquals(1, net.b.layer.counters().get(TcpCounter.DROP_SYN_FIN));
            TcpConnection client = net.a.layer.connect(TcpTestNetwork.ADDRESS_B, PORT, 4002, TcpConnectOptions.DEFAULT);
            assertTrue(net.runUntil(() -> client.state() == TcpState.ESTABLISHED && l.acceptable(), 1000));
        }
    }
}
