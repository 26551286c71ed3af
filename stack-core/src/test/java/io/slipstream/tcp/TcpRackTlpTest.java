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
