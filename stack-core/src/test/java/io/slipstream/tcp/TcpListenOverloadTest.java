package io.slipstream.tcp;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.slipstream.testing.TcpTestNetwork;
import io.slipstream.wire.Tcp;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A listener under a burst of real clients and under a SYN flood: SYN cookies answer only when
 * the half-open limit (the listen backlog) is reached, a client whose cookie handshake lost
 * packets is never reset, and a full accept queue drops rather than resets (Linux with
 * {@code tcp_abort_on_overflow=0}).
 */
class TcpListenOverloadTest {
    private static final int PORT = 8080;

    @Test
    void rfc4987_theHalfOpenLimitFollowsTheListenBacklog() {
        try (TcpTestNetwork net = new TcpTestNetwork(51, TcpFixtures.config())) {
            TcpListener l = net.b.layer.listen(PORT, 300);
            net.dropFilter = s -> !s.fromA(); // SYN-ACKs go nowhere: every connection stays half-open
            for (int i = 0; i < 250; i++) {
                synFrom(net, 2000 + i, 100 + i);
            }
            assertEquals(250, l.halfOpen, "a backlog of 300 holds 250 half-open connections");
            assertEquals(0, net.b.layer.counters().get(TcpCounter.SYN_COOKIES_SENT),
                    "no cookie for a burst within the backlog, though above slipstream.tcp.syn.backlog (128)");
            for (int i = 250; i < 310; i++) {
                synFrom(net, 2000 + i, 100 + i);
            }
            assertEquals(300, l.halfOpen);
            assertEquals(10, net.b.layer.counters().get(TcpCounter.SYN_COOKIES_SENT), "beyond it, cookies");
        }
    }

    @Test
    void rfc4987_aSmallBacklogStillHoldsTheConfiguredHalfOpenMinimum() {
        try (TcpTestNetwork net = new TcpTestNetwork(52, TcpFixtures.config("syn.backlog", "20"))) {
            TcpListener l = net.b.layer.listen(PORT, 5);
            net.dropFilter = s -> !s.fromA();
            for (int i = 0; i < 21; i++) {
                synFrom(net, 2000 + i, 100 + i);
            }
            assertEquals(20, l.halfOpen);
            assertEquals(1, net.b.layer.counters().get(TcpCounter.SYN_COOKIES_SENT));
        }
    }

    /**
     * The client's handshake ACK and its first data segment are lost; its second segment
     * reaches the listener with a sequence number the cookie does not cover. It is dropped,
     * not reset, and the client's retransmission of the first segment opens the connection.
     */
    @Test
    void rfc4987_aCookieClientWhoseAckAndFirstSegmentWereLostIsNotReset() {
        try (TcpTestNetwork net = new TcpTestNetwork(53, TcpFixtures.config("syn.backlog", "1"))) {
            TcpListener l = net.b.layer.listen(PORT, 1);
            net.dropFilter = s -> s.destinationPort() == 1234; // a spoofed half-open connection fills the limit
            synFrom(net, 1234, 99);
            TcpConnection client = net.a.layer.connect(TcpTestNetwork.ADDRESS_B, PORT);
            client.noDelay(true); // each write its own segment, as an interactive client sends them
            assertTrue(net.runUntil(() -> client.state() == TcpState.ESTABLISHED, 1000));
            assertEquals(1, net.b.layer.counters().get(TcpCounter.SYN_COOKIES_SENT));
            assertEquals(1, net.inFlightCount(), "the client's handshake ACK");
            net.dropInFlight();
            int[] dataSegments = {0};
            net.dropFilter = s -> s.destinationPort() == 1234 || s.fromA() && s.payloadLength() > 0 && ++dataSegments[0] == 1;
            byte[] first = TcpFixtures.pattern(500, 1);
            byte[] second = TcpFixtures.pattern(500, 2);
            client.send(ByteBuffer.wrap(first));
            client.send(ByteBuffer.wrap(second));
            net.runFor(10); // the first segment is lost, the second reaches the listener
            assertEquals(2, dataSegments[0]);
            assertEquals(1, net.b.layer.counters().get(TcpCounter.DROP_COOKIE_CHECK), () -> "dropped: " + net.b.layer.counters() + net.captured());
            assertEquals(0, net.b.layer.counters().get(TcpCounter.RESETS_SENT), "never reset");
            TcpConnection[] server = new TcpConnection[1];
            assertTrue(net.runUntil(() -> (server[0] = server[0] != null ? server[0] : l.accept()) != null, 10_000),
                    "the retransmitted first segment carries the cookie again");
            assertEquals(1, net.b.layer.counters().get(TcpCounter.SYN_COOKIES_ACCEPTED));
            ByteBuffer got = ByteBuffer.allocate(1000);
            assertTrue(net.runUntil(() -> {
                server[0].receive(got);
                return !got.hasRemaining();
            }, 10_000));
            byte[] both = new byte[1000];
            System.arraycopy(first, 0, both, 0, 500);
            System.arraycopy(second, 0, both, 500, 500);
            assertArrayEquals(both, got.array(), "every byte, in order");
            assertEquals(TcpState.ESTABLISHED, client.state());
            assertEquals(0, net.a.layer.counters().get(TcpCounter.RESETS_RECEIVED));
        }
    }

    @Test
    void rfc4987_anAckThatIsNoCookieIsResetWhenNoCookieWasSent() {
        try (TcpTestNetwork net = new TcpTestNetwork(54, TcpFixtures.config())) {
            net.b.layer.listen(PORT, 8);
            net.b.receive(TcpTestNetwork.ADDRESS_A, TcpTestNetwork.craft(TcpTestNetwork.ADDRESS_A,
                    TcpTestNetwork.ADDRESS_B, 1235, PORT, 501, 0x12345678, Tcp.ACK, 1000, null, new byte[0]));
            assertEquals(1, net.b.layer.counters().get(TcpCounter.RESETS_SENT), "RFC 9293 §3.10.7.2: LISTEN resets an ACK");
            assertEquals(0, net.b.layer.counters().get(TcpCounter.DROP_COOKIE_CHECK));
        }
    }

    /**
     * Two clients complete their handshakes while the accept queue has room for one: the second
     * one's ACK is dropped, not reset, and once the application accepts the first, the second
     * completes on its own and carries its data.
     */
    @Test
    void aFullAcceptQueueDropsTheHandshakeAckAndNeverResets() {
        try (TcpTestNetwork net = new TcpTestNetwork(55, TcpFixtures.config())) {
            TcpListener l = net.b.layer.listen(PORT, 1);
            TcpConnection one = net.a.layer.connect(TcpTestNetwork.ADDRESS_B, PORT);
            TcpConnection two = net.a.layer.connect(TcpTestNetwork.ADDRESS_B, PORT);
            assertTrue(net.runUntil(() -> one.state() == TcpState.ESTABLISHED && two.state() == TcpState.ESTABLISHED,
                    1000), "both clients see their handshake complete");
            net.runFor(10); // their ACKs arrive
            assertTrue(net.b.layer.counters().get(TcpCounter.DROP_LISTEN_OVERFLOW) >= 1, "one ACK found the queue full");
            byte[] data = TcpFixtures.pattern(3000, 3);
            two.send(ByteBuffer.wrap(data));
            net.runFor(500);
            List<TcpConnection> accepted = new ArrayList<>();
            TcpConnection first = l.accept();
            assertNotNull(first);
            accepted.add(first);
            assertTrue(net.runUntil(() -> {
                TcpConnection c = l.accept();
                if (c != null) {
                    accepted.add(c);
                }
                return accepted.size() == 2;
            }, 30_000), "the second completes once there is room");
            TcpConnection server = accepted.get(0).remotePort() == two.localPort() ? accepted.get(0) : accepted.get(1);
            ByteBuffer got = ByteBuffer.allocate(data.length);
            assertTrue(net.runUntil(() -> {
                server.receive(got);
                return !got.hasRemaining();
            }, 30_000));
            assertArrayEquals(data, got.array());
            assertEquals(0, net.b.layer.counters().get(TcpCounter.RESETS_SENT), "never reset");
            assertEquals(0, net.a.layer.counters().get(TcpCounter.RESETS_RECEIVED));
        }
    }

    /**
     * A SYN flood: in one poll pass only slipstream.tcp.syn.per.poll SYNs cost a half-open
     * connection (or a cookie); the rest are dropped unanswered and counted, and an established
     * connection's segment in the same pass is still taken. The next pass has a new budget.
     */
    @Test
    void synProcessingIsBoundedPerPollOnceTheHalfOpenQueueIsFull() {
        try (TcpTestNetwork net = new TcpTestNetwork(56, TcpFixtures.config("syn.per.poll", "16", "syn.backlog", "8"))) {
            TcpConnection[] c = TcpFixtures.connect(net);
            TcpListener l = net.b.layer.listen(PORT + 1, 8);
            net.dropFilter = s -> !s.fromA() && s.sourcePort() == PORT + 1; // SYN-ACKs go nowhere
            net.b.layer.receiveBatch(true);
            for (int i = 0; i < 40; i++) {
                synFromTo(net, 2000 + i, PORT + 1, 100 + i);
            }
            int rcvNxt = c[1].rcvNxt();
            TcpFixtures.inject(net, c[1], c[0].sndNxt(), c[0].rcvNxt(), Tcp.ACK | Tcp.PSH, 1000, null, new byte[10]);
            net.b.layer.receiveBatch(false);
            assertEquals(8, l.halfOpen, "the backlog's half-open connections");
            assertEquals(16, net.b.layer.counters().get(TcpCounter.SYN_COOKIES_SENT), "then the pass's budget in cookies");
            assertEquals(16, net.b.layer.counters().get(TcpCounter.DROP_SYN_BUDGET));
            assertEquals(rcvNxt + 10, c[1].rcvNxt(), "the established connection's data in the same pass was taken");
            net.b.layer.receiveBatch(true);
            synFromTo(net, 3000, PORT + 1, 500);
            net.b.layer.receiveBatch(false);
            assertEquals(17, net.b.layer.counters().get(TcpCounter.SYN_COOKIES_SENT), "a new pass, a new budget");
        }
    }

    /** Real clients arriving together within the listen backlog are all taken in one pass, as Linux takes them. */
    @Test
    void aBurstOfSynsWithinTheBacklogIsTakenWhole() {
        try (TcpTestNetwork net = new TcpTestNetwork(57, TcpFixtures.config("syn.per.poll", "16"))) {
            TcpListener l = net.b.layer.listen(PORT + 1, 300);
            net.dropFilter = s -> !s.fromA() && s.sourcePort() == PORT + 1;
            net.b.layer.receiveBatch(true);
            for (int i = 0; i < 200; i++) {
                synFromTo(net, 2000 + i, PORT + 1, 100 + i);
            }
            net.b.layer.receiveBatch(false);
            assertEquals(200, l.halfOpen);
            assertEquals(0, net.b.layer.counters().get(TcpCounter.DROP_SYN_BUDGET));
        }
    }

    private static void synFromTo(TcpTestNetwork net, int port, int listenPort, int isn) {
        net.b.receive(TcpTestNetwork.ADDRESS_A, TcpTestNetwork.craft(TcpTestNetwork.ADDRESS_A,
                TcpTestNetwork.ADDRESS_B, port, listenPort, isn, 0, Tcp.SYN, 1000, null, new byte[0]));
    }

    /** A SYN from {@code port} with initial sequence number {@code isn}, delivered to B's listener. */
    private static void synFrom(TcpTestNetwork net, int port, int isn) {
        synFromTo(net, port, PORT, isn);
    }
}
