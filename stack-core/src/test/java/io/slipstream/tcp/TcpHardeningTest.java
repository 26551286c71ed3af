package io.slipstream.tcp;

import static io.slipstream.tcp.TcpFixtures.PORT;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.slipstream.testing.TcpTestNetwork;
import io.slipstream.wire.Tcp;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** RFC 5961 blind-attack defences, RFC 6528 ISNs, RFC 6056 ports, SYN cookies (RFC 4987). */
class TcpHardeningTest {

    @Test
    void rfc5961_inWindowRstTriggersChallengeAck() {
        try (TcpTestNetwork net = new TcpTestNetwork(30, TcpFixtures.config())) {
            TcpConnection[] c = TcpFixtures.connect(net);
            net.clearCaptured();
            TcpFixtures.inject(net, c[0], c[0].rcvNxt() + 100, 0, Tcp.RST, 0, null, new byte[0]);
            assertEquals(TcpState.ESTABLISHED, c[0].state());
            assertEquals(1, net.a.layer.counters().get(TcpCounter.CHALLENGE_ACKS));
            List<TcpTestNetwork.Segment> out = TcpFixtures.sentBy(net, c[0]);
            assertEquals(1, out.size());
            assertEquals(Tcp.ACK, out.get(0).flags());
            assertEquals(c[0].rcvNxt(), out.get(0).ack());
        }
    }

    @Test
    void rfc5961_rstAtExactlyRcvNxtResets() {
        try (TcpTestNetwork net = new TcpTestNetwork(31, TcpFixtures.config())) {
            TcpConnection[] c = TcpFixtures.connect(net);
            TcpFixtures.inject(net, c[0], c[0].rcvNxt(), 0, Tcp.RST, 0, null, new byte[0]);
            assertEquals(TcpState.CLOSED, c[0].state());
            assertEquals(TcpError.RESET, c[0].pendingError());
            assertEquals(1, net.a.layer.counters().get(TcpCounter.RESETS_RECEIVED));
        }
    }

    @Test
    void rfc5961_outOfWindowRstIsSilentlyDropped() {
        try (TcpTestNetwork net = new TcpTestNetwork(32, TcpFixtures.config())) {
            TcpConnection[] c = TcpFixtures.connect(net);
            net.clearCaptured();
            TcpFixtures.inject(net, c[0], c[0].rcvNxt() + 50_000_000, 0, Tcp.RST, 0, null, new byte[0]);
            assertEquals(TcpState.ESTABLISHED, c[0].state());
            assertEquals(0, TcpFixtures.sentBy(net, c[0]).size());
            assertEquals(0, net.a.layer.counters().get(TcpCounter.CHALLENGE_ACKS));
        }
    }

    @Test
    void rfc5961_synInSynchronizedStateTriggersChallengeAck() {
        try (TcpTestNetwork net = new TcpTestNetwork(33, TcpFixtures.config())) {
            TcpConnection[] c = TcpFixtures.connect(net);
            net.clearCaptured();
            TcpFixtures.inject(net, c[0], c[0].rcvNxt() + 5, 0, Tcp.SYN, 1000, null, new byte[0]);
            assertEquals(TcpState.ESTABLISHED, c[0].state());
            assertEquals(1, net.a.layer.counters().get(TcpCounter.CHALLENGE_ACKS));
            assertEquals(c[0].rcvNxt(), TcpFixtures.sentBy(net, c[0]).get(0).ack());
        }
    }

    @Test
    void rfc5961_challengeAcksAreThrottled() {
        try (TcpTestNetwork net = new TcpTestNetwork(34, TcpFixtures.config("challenge.ack.limit", "5"))) {
            TcpConnection[] c = TcpFixtures.connect(net);
            for (int i = 0; i < 10; i++) {
                TcpFixtures.inject(net, c[0], c[0].rcvNxt() + 1 + i, 0, Tcp.RST, 0, null, new byte[0]);
            }
            assertEquals(5, net.a.layer.counters().get(TcpCounter.CHALLENGE_ACKS));
            assertEquals(5, net.a.layer.counters().get(TcpCounter.CHALLENGE_ACKS_THROTTLED));
            net.clock.advanceMillis(1000);
            TcpFixtures.inject(net, c[0], c[0].rcvNxt() + 1, 0, Tcp.RST, 0, null, new byte[0]);
            assertEquals(6, net.a.layer.counters().get(TcpCounter.CHALLENGE_ACKS), "a new second, a new budget");
        }
    }

    @Test
    void rfc5961_tooOldAckIsDropped() {
        try (TcpTestNetwork net = new TcpTestNetwork(35, TcpFixtures.config())) {
            TcpConnection[] c = TcpFixtures.connect(net);
            TcpFixtures.inject(net, c[0], c[0].rcvNxt(), c[0].sndUna() - 100_000_000, Tcp.ACK, 1000, null, new byte[5]);
            assertEquals(0, c[0].available());
            assertEquals(1, net.a.layer.counters().get(TcpCounter.DROP_BAD_ACK));
        }
    }

    @Test
    void rfc6528_isnIsKeyedHashPlusFourMicrosecondClock() {
        int isn1;
        int isnOtherPort;
        int isnLater;
        int isnOtherSecret;
        try (TcpTestNetwork net = new TcpTestNetwork(36, TcpFixtures.config())) {
            TcpConnection x = net.a.layer.connect(TcpTestNetwork.ADDRESS_B, 80, 40000, TcpConnectOptions.DEFAULT);
            isn1 = x.iss();
            isnOtherPort = net.a.layer.connect(TcpTestNetwork.ADDRESS_B, 81, 40000, TcpConnectOptions.DEFAULT).iss();
            assertThrows(IllegalStateException.class,
                    () -> net.a.layer.connect(TcpTestNetwork.ADDRESS_B, 80, 40000, TcpConnectOptions.DEFAULT),
                    "the 4-tuple is in use");
            x.abort();
            net.clock.advanceMillis(1000);
            isnLater = net.a.layer.connect(TcpTestNetwork.ADDRESS_B, 80, 40000, TcpConnectOptions.DEFAULT).iss();
        }
        try (TcpTestNetwork net = new TcpTestNetwork(37, TcpFixtures.config())) {
            isnOtherSecret = net.a.layer.connect(TcpTestNetwork.ADDRESS_B, 80, 40000, TcpConnectOptions.DEFAULT).iss();
        }
        assertEquals(250_000, isnLater - isn1, "M advances once per 4 microseconds");
        assertNotEquals(isn1, isnOtherSecret, "the secret changes F");
        assertTrue(Math.abs((long) isnOtherPort - isn1) > 1000, "the 4-tuple changes F, not sequentially");
    }

    @Test
    void rfc6056_ephemeralPortsAreRandomisedAndInRange() {
        try (TcpTestNetwork net = new TcpTestNetwork(38, TcpFixtures.config())) {
            Set<Integer> ports = new HashSet<>();
            int sequential = 0;
            int prev = -1;
            for (int i = 0; i < 200; i++) {
                int p = net.a.layer.connect(TcpTestNetwork.ADDRESS_B, 80).localPort();
                assertTrue(p >= 32768 && p <= 60999, "in the ephemeral range: " + p);
                assertTrue(ports.add(p), "unique: " + p);
                if (p == prev + 1) {
                    sequential++;
                }
                prev = p;
            }
            assertTrue(sequential < 10, "successive ports are not sequential: " + sequential);
        }
        try (TcpTestNetwork x = new TcpTestNetwork(39, TcpFixtures.config());
             TcpTestNetwork y = new TcpTestNetwork(40, TcpFixtures.config())) {
            assertNotEquals(x.a.layer.connect(TcpTestNetwork.ADDRESS_B, 80).localPort(),
                    y.a.layer.connect(TcpTestNetwork.ADDRESS_B, 80).localPort(), "secret-dependent");
        }
    }

    @Test
    void rfc4987_synCookieCompletesHandshakeWhenBacklogIsFull() {
        try (TcpTestNetwork net = new TcpTestNetwork(41, TcpFixtures.config("syn.backlog", "1"))) {
            TcpListener l = net.b.layer.listen(PORT, 1); // the half-open limit is the larger of backlog and syn.backlog
            fillSynBacklog(net);
            TcpConnection client = net.a.layer.connect(TcpTestNetwork.ADDRESS_B, PORT);
            assertTrue(net.runUntil(l::acceptable, 1000));
            assertEquals(1, net.b.layer.counters().get(TcpCounter.SYN_COOKIES_SENT));
            assertEquals(1, net.b.layer.counters().get(TcpCounter.SYN_COOKIES_ACCEPTED));
            TcpConnection server = l.accept();
            assertNotNull(server);
            assertEquals(TcpState.ESTABLISHED, client.state());
            // the SYN's options came back through the timestamp echo
            assertTrue(server.timestampsEnabled() && client.timestampsEnabled());
            assertTrue(server.sackEnabled() && client.sackEnabled());
            assertEquals(client.receiveWindowScale(), server.sendWindowScale());
            assertEquals(server.receiveWindowScale(), client.sendWindowScale());
            assertEquals(client.mss(), server.mss());
            byte[] data = TcpFixtures.pattern(30_000, 5);
            assertArrayEquals(data, TcpFixtures.transfer(net, client, server, data, 10_000));
            assertArrayEquals(data, TcpFixtures.transfer(net, server, client, data, 10_000));
        }
    }

    @Test
    void rfc4987_forgedCookieAckIsRejected() {
        try (TcpTestNetwork net = new TcpTestNetwork(42, TcpFixtures.config("syn.backlog", "1"))) {
            TcpListener l = net.b.layer.listen(PORT, 1); // the half-open limit is the larger of backlog and syn.backlog
            fillSynBacklog(net);
            net.b.receive(TcpTestNetwork.ADDRESS_A, TcpTestNetwork.craft(TcpTestNetwork.ADDRESS_A,
                    TcpTestNetwork.ADDRESS_B, 1235, PORT, 500, 0, Tcp.SYN, 1000, null, new byte[0]));
            assertEquals(1, net.b.layer.counters().get(TcpCounter.SYN_COOKIES_SENT));
            net.b.receive(TcpTestNetwork.ADDRESS_A, TcpTestNetwork.craft(TcpTestNetwork.ADDRESS_A,
                    TcpTestNetwork.ADDRESS_B, 1235, PORT, 501, 0x12345678, Tcp.ACK, 1000, null, new byte[0]));
            assertEquals(0, net.b.layer.counters().get(TcpCounter.SYN_COOKIES_ACCEPTED));
            assertEquals(1, net.b.layer.counters().get(TcpCounter.SYN_COOKIES_REJECTED));
            assertTrue(!l.acceptable());
        }
    }

    @Test
    void rfc4987_synCookieWithoutTimestampsKeepsOnlyTheMss() {
        TcpConfig noTs = TcpFixtures.config("timestamps", "false");
        try (TcpTestNetwork net = new TcpTestNetwork(43, noTs, TcpFixtures.config("syn.backlog", "1"))) {
            TcpListener l = net.b.layer.listen(PORT, 1); // the half-open limit is the larger of backlog and syn.backlog
            fillSynBacklog(net);
            TcpConnection client = net.a.layer.connect(TcpTestNetwork.ADDRESS_B, PORT);
            assertTrue(net.runUntil(l::acceptable, 1000));
            TcpConnection server = l.accept();
            assertTrue(!server.sackEnabled() && server.sendWindowScale() == 0 && !server.timestampsEnabled());
            assertEquals(1460, server.mss());
            byte[] data = TcpFixtures.pattern(100_000, 6);
            assertArrayEquals(data, TcpFixtures.transfer(net, server, client, data, 10_000));
        }
    }

    /** A half-open connection from a spoofed port whose SYN-ACK goes nowhere fills a backlog of 1. */
    private static void fillSynBacklog(TcpTestNetwork net) {
        net.dropFilter = s -> s.destinationPort() == 1234;
        net.b.receive(TcpTestNetwork.ADDRESS_A, TcpTestNetwork.craft(TcpTestNetwork.ADDRESS_A,
                TcpTestNetwork.ADDRESS_B, 1234, PORT, 99, 0, Tcp.SYN, 1000, null, new byte[0]));
    }
}
