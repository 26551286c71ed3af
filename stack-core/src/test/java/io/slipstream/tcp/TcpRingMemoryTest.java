package io.slipstream.tcp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.slipstream.testing.TcpTestNetwork;
import io.slipstream.wire.Tcp;
import java.nio.ByteBuffer;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Connections' rings come from the layer's {@link RingMemory}: a half-open connection holds
 * none (a SYN flood costs no buffer memory), a completed handshake takes them, a closed
 * connection gives them back and the next one reuses the same blocks.
 */
class TcpRingMemoryTest {
    private static final int FLOOD_PORT = 9090;

    @Test
    void halfOpenConnectionsHoldNoRingsAndACompletedHandshakeDoes() {
        try (TcpTestNetwork net = new TcpTestNetwork(61, TcpFixtures.config())) {
            RingMemory rings = net.b.layer.rings();
            TcpListener l = net.b.layer.listen(FLOOD_PORT, 300);
            net.dropFilter = s -> !s.fromA(); // SYN-ACKs go nowhere: every connection stays half-open
            for (int i = 0; i < 200; i++) {
                syn(net, 2000 + i, 100 + i, new byte[0]);
            }
            assertEquals(200, l.halfOpen);
            assertEquals(0, rings.outstandingRings(), "no rings while half-open");
            assertEquals(0, rings.reservedBytes(), "no ring memory reserved at all");
            net.dropFilter = s -> false;
            TcpConnection[] c = TcpFixtures.connect(net);
            assertEquals(2, rings.outstandingRings(), "the accepted connection's send and receive rings");
            assertEquals(2 * 65536, rings.outstandingBytes());
            assertEquals(2, rings.leaks().size(), "held rings are listed until given back");
            long reserved = rings.reservedBytes();
            c[1].abort();
            assertEquals(0, rings.outstandingRings(), "an aborted connection gives its rings back");
            assertEquals(List.of(), rings.leaks());
            TcpFixtures.connect(net);
            assertEquals(2, rings.outstandingRings());
            assertEquals(reserved, rings.reservedBytes(), "the next connection reuses the blocks");
        }
    }

    @Test
    void halfOpenConnectionsEndingByResetOrTimeoutLeaveNothingBehind() {
        try (TcpTestNetwork net = new TcpTestNetwork(62, TcpFixtures.config("syn.retries", "2"))) {
            RingMemory rings = net.b.layer.rings();
            TcpListener l = net.b.layer.listen(FLOOD_PORT, 300);
            net.dropFilter = s -> !s.fromA();
            syn(net, 3000, 500, new byte[0]);
            syn(net, 3001, 600, new byte[0]);
            // RFC 9293 §3.10.7.4: a RST at RCV.NXT ends a SYN-RECEIVED connection from a listener
            net.b.receive(TcpTestNetwork.ADDRESS_A, TcpTestNetwork.craft(TcpTestNetwork.ADDRESS_A,
                    TcpTestNetwork.ADDRESS_B, 3000, FLOOD_PORT, 501, 0, Tcp.RST, 0, null, new byte[0]));
            assertEquals(1, l.halfOpen, "the reset one is gone");
            assertTrue(net.runUntil(() -> l.halfOpen == 0, 600_000), "the other times out");
            assertEquals(0, rings.outstandingRings());
            assertEquals(0, rings.reservedBytes());
            assertEquals(0, net.b.layer.counters().get(TcpCounter.DROP_INTERNAL_ERROR));
        }
    }

    @Test
    void rfc9293_dataOnASynIsBufferedSoTheRingsAreTakenAtOnce() {
        try (TcpTestNetwork net = new TcpTestNetwork(63, TcpFixtures.config())) {
            RingMemory rings = net.b.layer.rings();
            TcpListener l = net.b.layer.listen(FLOOD_PORT, 300);
            net.capture(true);
            syn(net, 4000, 700, new byte[100]);
            assertEquals(1, l.halfOpen);
            assertEquals(2, rings.outstandingRings(), "SYN data needs the receive ring now");
            TcpTestNetwork.Segment synAck = net.captured().stream().filter(s -> !s.fromA()).findFirst().orElseThrow();
            assertEquals(700 + 1 + 100, synAck.ack(), "the SYN-ACK acknowledges the SYN's data");
        }
    }

    @Test
    void halfOpenSynAckOffersTheWindowOfTheRingItWillGet() {
        try (TcpTestNetwork net = new TcpTestNetwork(64, TcpFixtures.config())) {
            net.b.layer.listen(FLOOD_PORT, 300);
            net.capture(true);
            syn(net, 4001, 800, new byte[0]);
            TcpTestNetwork.Segment synAck = net.captured().stream().filter(s -> !s.fromA()).findFirst().orElseThrow();
            assertEquals(TcpConnection.INITIAL_WINDOW_LIMIT - 1, synAck.window(),
                    "the auto-tuning start (64 KiB) within the 16-bit field, as with a ring");
        }
    }

    /**
     * A flood well beyond the backlog, pass after pass on the virtual clock: each pass also
     * carries a data segment of an established connection, which is taken in that same pass,
     * and the flood never takes ring memory.
     */
    @Test
    void anEstablishedConnectionsDataFlowsInEveryPassOfASynFlood() {
        try (TcpTestNetwork net = new TcpTestNetwork(65, TcpFixtures.config("syn.backlog", "1024"))) {
            TcpConnection[] c = TcpFixtures.connect(net);
            RingMemory rings = net.b.layer.rings();
            TcpListener l = net.b.layer.listen(FLOOD_PORT, 1024);
            net.dropFilter = s -> !s.fromA(); // nothing B sends arrives: SYN-ACKs and ACKs alike
            int seq = c[0].sndNxt();
            ByteBuffer got = ByteBuffer.allocate(100);
            int port = 10_000;
            for (int pass = 0; pass < 200; pass++) {
                net.b.layer.receiveBatch(true);
                for (int i = 0; i < 16; i++) {
                    syn(net, port++, pass * 16 + i, new byte[0]);
                }
                TcpFixtures.inject(net, c[1], seq, c[0].rcvNxt(), Tcp.ACK | Tcp.PSH, 1000, null, new byte[10]);
                net.b.layer.receiveBatch(false);
                seq += 10;
                assertEquals(seq, c[1].rcvNxt(), "pass " + pass + ": the data was taken in the same pass");
                got.clear();
                assertEquals(10, c[1].receive(got), "pass " + pass + ": and is readable");
                assertEquals(2, rings.outstandingRings(), "pass " + pass + ": only the established connection's rings");
                net.runFor(1);
            }
            assertEquals(1024, l.halfOpen, "the flood filled the backlog");
            assertTrue(net.b.layer.counters().get(TcpCounter.SYN_COOKIES_SENT) > 0, "and went on to cookies");
        }
    }

    private static void syn(TcpTestNetwork net, int port, int isn, byte[] data) {
        net.b.receive(TcpTestNetwork.ADDRESS_A, TcpTestNetwork.craft(TcpTestNetwork.ADDRESS_A,
                TcpTestNetwork.ADDRESS_B, port, FLOOD_PORT, isn, 0, Tcp.SYN, 1000, null, data));
    }
}
