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
}
