package io.slipstream.tcp;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.slipstream.testing.TcpTestNetwork;
import java.nio.ByteBuffer;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** RACK-TLP (RFC 8985) between two stacks: losses repaired without waiting for the RTO. */
class TcpRackTlpTest {

    /** Drops A's data segments starting at these sequence numbers, the n-th transmission of each (1 = first). */
    private static void dropTransmissions(TcpTestNetwork net, Map<Integer, Integer> seqToTimes) {
        Map<Integer, Integer> seen = new HashMap<>();
        net.dropFilter = s -> {
            if (!s.fromA() || s.payloadLength() == 0) {
                return false;
            }
            int n = seen.merge(s.seq(), 1, Integer::sum);
            return seqToTimes.containsKey(s.seq()) && n <= seqToTimes.get(s.seq());
        };
    }

    @Test
    void rfc8985_lossBelowTheLastSegmentIsRepairedWithoutAnRto() {
        try (TcpTestNetwork net = new TcpTestNetwork(81, TcpFixtures.config()).delay(10, 0)) {
            TcpConnection[] c = TcpFixtures.warmPair(net);
            int mss = c[0].mss();
            dropTransmissions(net, Map.of(c[0].sndMax(), 1));
            byte[] data = TcpFixtures.pattern(2 * mss, 1); // two segments: one duplicate ACK only
            assertArrayEquals(data, TcpFixtures.transfer(net, c[0], c[1], data, 10_000));
            assertEquals(0, TcpFixtures.counter(net.a, TcpCounter.RTO_EXPIRIES));
            assertEquals(1, TcpFixtures.counter(net.a, TcpCounter.FAST_RETRANSMITS), "RACK's reordering window ran out");
        }
    }

    @Test
    void rfc8985_tailLossIsProbedAndRepairedWithoutAnRto() {
        try (TcpTestNetwork net = new TcpTestNetwork(82, TcpFixtures.config()).delay(10, 0)) {
            TcpConnection[] c = TcpFixtures.warmPair(net);
            int mss = c[0].mss();
            int first = c[0].sndMax();
            // the last two of six segments vanish: no ACK comes back for them
            dropTransmissions(net, Map.of(first + 4 * mss, 1, first + 5 * mss, 1));
            long start = net.clock.nanoTime();
            byte[] data = TcpFixtures.pattern(6 * mss, 2);
            assertArrayEquals(data, TcpFixtures.transfer(net, c[0], c[1], data, 10_000));
            assertEquals(0, TcpFixtures.counter(net.a, TcpCounter.RTO_EXPIRIES));
            assertEquals(1, TcpFixtures.counter(net.a, TcpCounter.TAIL_LOSS_PROBES));
            long tookNs = net.clock.nanoTime() - start;
            assertTrue(tookNs < c[0].retransmissionTimeoutNanos(), "repaired in " + tookNs / 1_000_000 + " ms, sooner than an RTO");
        }
    }

    @Test
    void rfc8985_lostRetransmissionIsRepairedWithoutAnRto() {
        try (TcpTestNetwork net = new TcpTestNetwork(83, TcpFixtures.config("sndbuf", "262144", "rcvbuf", "262144"))
                .delay(10, 0)) {
            TcpConnection[] c = TcpFixtures.warmPair(net);
            int mss = c[0].mss();
            int victim = c[0].sndMax() + 5 * mss;
            dropTransmissions(net, Map.of(victim, 2)); // the segment and its first retransmission
            byte[] data = TcpFixtures.pattern(200_000, 3);
            assertArrayEquals(data, TcpFixtures.transfer(net, c[0], c[1], data, 60_000));
            assertEquals(0, TcpFixtures.counter(net.a, TcpCounter.RTO_EXPIRIES));
            long sends = net.captured().stream().filter(s -> s.fromA() && s.seq() == victim).count();
            assertEquals(3, sends, "sent, resent, and resent again once RACK saw the retransmission lost");
        }
    }

    /**
     * RFC 8985 §7.3 with RFC 9293 §3.10.7.4: the probe is answered at once. When every ACK of a
     * flight is lost, a probe of one new in-order segment, the receiver having acknowledged all it got before, may wait at the receiver for its
     * delayed-ACK timer (40 ms here, up to 500 ms by RFC 1122), hundreds of round trips on a
     * LAN; the last segment sent again is a duplicate, which the receiver acknowledges at once.
     */
    @Test
    void rfc8985_probeAfterLostAcksDrawsAnImmediateAck() {
        // a PTO (2·SRTT + 2 ms) longer than the receiver's delayed-ACK time (40 ms): B has
        // acknowledged all it got (those ACKs lost) when the probe comes
        final long oneWayMs = 25;
        try (TcpTestNetwork net = new TcpTestNetwork(84, TcpFixtures.config("sndbuf", "262144", "rcvbuf", "262144",
                "quickack.segments", "0")).delay(oneWayMs, 0)) {
            TcpConnection[] c = TcpFixtures.warmPair(net);
            // every ACK from B is lost until A probes: A's flight is all delivered, A cannot tell
            net.dropFilter = s -> !s.fromA() && TcpFixtures.counter(net.a, TcpCounter.TAIL_LOSS_PROBES) == 0;
            int first = c[0].sndMax();
            byte[] data = TcpFixtures.pattern(200_000, 4);
            ByteBuffer src = ByteBuffer.wrap(data);
            ByteBuffer sink = ByteBuffer.allocate(8192);
            assertTrue(net.runUntil(() -> {
                c[0].send(src);
                while (c[1].receive(sink.clear()) > 0) { }
                return TcpFixtures.counter(net.a, TcpCounter.TAIL_LOSS_PROBES) == 1;
            }, 10_000), "a probe left");
            assertTrue(c[0].sndMax() - first < data.length, "the congestion window held new data back");
            int unaAtProbe = c[0].sndUna();
            long probeNs = net.clock.nanoTime();
            assertTrue(net.runUntil(() -> {
                while (c[1].receive(sink.clear()) > 0) { }
                return c[0].sndUna() != unaAtProbe;
            }, 10_000), "the flight is acknowledged");
            long answeredMs = (net.clock.nanoTime() - probeNs) / 1_000_000;
            assertTrue(answeredMs <= 2 * oneWayMs + 1, "the probe was answered in " + answeredMs
                    + " ms: a round trip, not the receiver's delayed-ACK time more");
            assertEquals(0, TcpFixtures.counter(net.a, TcpCounter.RTO_EXPIRIES));
        }
    }

    /**
     * RFC 8985 §7 at the tail of a recovery: when the ACKs after a fast retransmission are lost
     * (the one that would end the recovery among them), nothing sent later is delivered for RACK
     * to judge by, and only the RTO (200 ms at least, hundreds of round trips on a LAN) would
     * act. A probe, armed in the recovery as at any tail, draws the ACK instead.
     */
    @Test
    void rfc8985_lostAcksInRecoveryAreProbedWithoutAnRto() {
        try (TcpTestNetwork net = new TcpTestNetwork(85, TcpFixtures.config("sndbuf", "262144", "rcvbuf", "262144"))
                .delay(1, 0)) {
            TcpConnection[] c = TcpFixtures.warmPair(net);
            int victim = c[0].sndMax() + 5 * c[0].mss();
            boolean[] victimDropped = new boolean[1];
            // the victim's first transmission is lost; after the fast retransmission every ACK
            // from B is lost too, until A probes (or its RTO fires)
            net.dropFilter = s -> {
                if (s.fromA()) {
                    boolean drop = s.payloadLength() > 0 && s.seq() == victim && !victimDropped[0];
                    victimDropped[0] |= drop;
                    return drop;
                }
                return TcpFixtures.counter(net.a, TcpCounter.FAST_RETRANSMITS) > 0
                        && TcpFixtures.counter(net.a, TcpCounter.TAIL_LOSS_PROBES) == 0
                        && TcpFixtures.counter(net.a, TcpCounter.RTO_EXPIRIES) == 0;
            };
            byte[] data = TcpFixtures.pattern(200_000, 5);
            assertArrayEquals(data, TcpFixtures.transfer(net, c[0], c[1], data, 60_000));
            assertEquals(1, TcpFixtures.counter(net.a, TcpCounter.FAST_RETRANSMITS));
            assertTrue(TcpFixtures.counter(net.a, TcpCounter.TAIL_LOSS_PROBES) > 0, "a probe drew the lost ACK again");
            assertEquals(0, TcpFixtures.counter(net.a, TcpCounter.RTO_EXPIRIES));
        }
    }

    /**
     * RFC 8985 §7.3: the probe resends the highest segment not SACKed. When the retransmissions
     * of the holes below a SACKed last segment are lost, resending that SACKed segment draws
     * only a D-SACK, from which RACK learns nothing; the highest hole, sent after the other
     * retransmissions, shows them lost when it arrives.
     */
    @Test
    void rfc8985_probeResendsTheHighestSegmentNotSacked() {
        try (TcpTestNetwork net = new TcpTestNetwork(86, TcpFixtures.config()).delay(1, 0)) {
            TcpConnection[] c = TcpFixtures.warmPair(net);
            int mss = c[0].mss();
            int first = c[0].sndMax();
            // of ten segments the eighth and ninth vanish, and so do their retransmissions
            dropTransmissions(net, Map.of(first + 7 * mss, 2, first + 8 * mss, 2));
            byte[] data = TcpFixtures.pattern(10 * mss, 6);
            assertArrayEquals(data, TcpFixtures.transfer(net, c[0], c[1], data, 10_000));
            assertEquals(0, TcpFixtures.counter(net.a, TcpCounter.RTO_EXPIRIES));
            long lastResent = net.captured().stream().filter(s -> s.fromA() && s.seq() == first + 9 * mss).count();
            assertEquals(1, lastResent, "the SACKed last segment was never resent");
        }
    }
}
