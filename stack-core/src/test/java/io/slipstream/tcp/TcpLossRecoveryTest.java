package io.slipstream.tcp;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.slipstream.testing.TcpTestNetwork;
import io.slipstream.wire.Tcp;
import io.slipstream.wire.TcpOptions;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** RFC 2018/6675 SACK, RFC 5681/6582 fast retransmit and NewReno, RFC 3042, RFC 6298 RTO. */
class TcpLossRecoveryTest {

    /** Drops the first transmission of the data segments with these indices (0-based) from A. */
    private static void dropDataSegments(TcpTestNetwork net, int... indices) {
        Set<Integer> wanted = new HashSet<>();
        for (int i : indices) {
            wanted.add(i);
        }
        Set<Integer> seen = new HashSet<>();
        int[] counter = {0};
        net.dropFilter = s -> {
            if (!s.fromA() || s.payloadLength() == 0 || !seen.add(s.seq())) {
                return false; // only first transmissions count
            }
            return wanted.contains(counter[0]++);
        };
    }

    /** Sequence numbers A sent more than once. */
    private static List<Integer> retransmitted(TcpTestNetwork net) {
        Set<Integer> seen = new HashSet<>();
        List<Integer> again = new ArrayList<>();
        for (TcpTestNetwork.Segment s : net.captured()) {
            if (s.fromA() && s.payloadLength() > 0 && !seen.add(s.seq())) {
                again.add(s.seq());
            }
        }
        return again;
    }

    private static List<Integer> firstSeqs(TcpTestNetwork net) {
        List<Integer> seqs = new ArrayList<>();
        Set<Integer> seen = new HashSet<>();
        for (TcpTestNetwork.Segment s : net.captured()) {
            if (s.fromA() && s.payloadLength() > 0 && seen.add(s.seq())) {
                seqs.add(s.seq());
            }
        }
        return seqs;
    }

    @Test
    void rfc2018_sackBlocksReportOutOfOrderData() {
        try (TcpTestNetwork net = new TcpTestNetwork(60, TcpFixtures.config())) {
            TcpConnection[] c = TcpFixtures.connect(net);
            c[0].noDelay(true);
            dropDataSegments(net, 0);
            net.clearCaptured();
            int mss = c[0].mss();
            int start = c[0].sndUna();
            c[0].send(java.nio.ByteBuffer.wrap(new byte[3 * mss]));
            net.runFor(5);
            TcpTestNetwork.Segment dupAck = null;
            for (TcpTestNetwork.Segment s : net.captured()) {
                if (!s.fromA() && s.options().sackBlockCount > 0) {
                    dupAck = s;
                }
            }
            assertTrue(dupAck != null, "B sent SACK blocks");
            TcpOptions o = dupAck.options();
            assertEquals(start, dupAck.ack(), "cumulative ACK stays at the hole");
            assertEquals(start + mss, o.sackLeft[0]);
            assertEquals(start + 3 * mss, o.sackRight[0], "the two later segments, merged in one block");
        }
    }

    @Test
    void rfc6675_sackRecoveryRetransmitsOnlyHoles() {
        try (TcpTestNetwork net = new TcpTestNetwork(61, TcpFixtures.config("rcvbuf", "1048576", "sndbuf", "1048576"))) {
            TcpConnection[] c = TcpFixtures.connect(net);
            TcpFixtures.transfer(net, c[0], c[1], new byte[200_000], 10_000); // open cwnd
            net.clearCaptured();
            dropDataSegments(net, 10, 13, 17);
            byte[] data = TcpFixtures.pattern(150_000, 1);
            assertArrayEquals(data, TcpFixtures.transfer(net, c[0], c[1], data, 10_000));
            List<Integer> first = firstSeqs(net);
            if (Boolean.getBoolean("tcp.debug")) {
                net.captured().forEach(s -> System.out.println(s.sentAtNanos() / 1000 + " " + s));
            }
            assertEquals(List.of(first.get(10), first.get(13), first.get(17)), retransmitted(net),
                    "exactly the three holes were sent again");
            assertEquals(0, net.a.layer.counters().get(TcpCounter.RTO_EXPIRIES));
            assertEquals(1, net.a.layer.counters().get(TcpCounter.SACK_RECOVERIES));
        }
    }

    @Test
    void rfc5681_fastRetransmitAfterThreeDuplicateAcks() {
        try (TcpTestNetwork net = new TcpTestNetwork(62, TcpFixtures.config("sack", "false", "cc", "newreno"))) {
            TcpConnection[] c = TcpFixtures.connect(net);
            TcpFixtures.transfer(net, c[0], c[1], new byte[100_000], 10_000);
            net.clearCaptured();
            dropDataSegments(net, 5);
            TcpFixtures.transfer(net, c[0], c[1], new byte[60_000], 10_000);
            if (Boolean.getBoolean("tcp.debug")) {
                net.captured().forEach(s -> System.out.println(s.sentAtNanos() / 1000 + " " + s));
            }
            assertEquals(1, net.a.layer.counters().get(TcpCounter.FAST_RETRANSMITS));
            assertEquals(0, net.a.layer.counters().get(TcpCounter.RTO_EXPIRIES));
            assertEquals(List.of(firstSeqs(net).get(5)), retransmitted(net));
        }
    }

    @Test
    void rfc6582_newRenoPartialAckRetransmitsNextHole() {
        try (TcpTestNetwork net = new TcpTestNetwork(63, TcpFixtures.config("sack", "false", "cc", "newreno",
                "rcvbuf", "1048576", "sndbuf", "1048576"))) {
            TcpConnection[] c = TcpFixtures.connect(net);
            TcpFixtures.transfer(net, c[0], c[1], new byte[200_000], 10_000);
            net.clearCaptured();
            dropDataSegments(net, 5, 9);
            TcpFixtures.transfer(net, c[0], c[1], new byte[100_000], 10_000);
            assertEquals(1, net.a.layer.counters().get(TcpCounter.FAST_RETRANSMITS),
                    "one recovery episode for two losses");
            assertEquals(0, net.a.layer.counters().get(TcpCounter.RTO_EXPIRIES),
                    "the partial ACK repaired the second hole");
            List<Integer> first = firstSeqs(net);
            assertEquals(List.of(first.get(5), first.get(9)), retransmitted(net));
        }
    }

    @Test
    void rfc3042_limitedTransmitSendsNewData() {
        try (TcpTestNetwork net = new TcpTestNetwork(64, TcpFixtures.config("sack", "false", "cc", "newreno"))) {
            TcpConnection[] c = TcpFixtures.connect(net);
            c[0].noDelay(true);
            int mss = c[0].mss();
            int initialWindow = (int) (c[0].congestionWindow() / mss);
            net.clearCaptured();
            dropDataSegments(net, 0);
            c[0].send(java.nio.ByteBuffer.wrap(new byte[(initialWindow + 3) * mss]));
            net.runFor(100);
            List<Integer> first = firstSeqs(net);
            assertTrue(first.size() >= initialWindow + 2, "two segments beyond the initial window went out on dup ACKs");
            assertEquals(1, net.a.layer.counters().get(TcpCounter.FAST_RETRANSMITS), "their dup ACKs made the third");
            assertEquals(0, net.a.layer.counters().get(TcpCounter.RTO_EXPIRIES));
        }
    }

    /**
     * RFC 5681 §3.1: after a retransmission timeout the congestion window is the loss window,
     * one segment. A duplicate ACK before the timeout gave an RFC 3042 limited-transmit
     * allowance, which must not survive the timeout and let a second segment out with the first.
     */
    @Test
    void rfc5681_lossWindowIsOneSegmentAfterATimeout() {
        // without SACK: with it, RACK (RFC 8985) repairs this loss before any timeout
        try (TcpTestNetwork net = new TcpTestNetwork(67, TcpFixtures.config("sack", "false"))) {
            TcpConnection[] c = TcpFixtures.connect(net, TcpConnectOptions.DEFAULT.withNoDelay(true));
            int mss = c[0].mss();
            for (int i = 0; i < 3; i++) {
                TcpFixtures.exchange(net, c[0], c[1], 300, 1000); // small exchanges: the window edge stays put
            }
            net.clearCaptured();
            dropDataSegments(net, 0);
            c[0].send(java.nio.ByteBuffer.wrap(new byte[2 * mss])); // the second draws a duplicate ACK
            long sent = net.clock.nanoTime();
            net.runFor(150);
            assertEquals(0, net.a.layer.counters().get(TcpCounter.RTO_EXPIRIES));
            assertEquals(1, TcpFixtures.sentBy(net, c[1]).size(), "one duplicate ACK");
            net.runUntil(() -> net.a.layer.counters().get(TcpCounter.RTO_EXPIRIES) == 1, 1000);
            List<TcpTestNetwork.Segment> resent = net.captured().stream()
                    .filter(s -> s.fromA() && s.payloadLength() > 0 && s.sentAtNanos() > sent).toList();
            assertEquals(1, resent.size(), "one segment in the loss window: " + resent);
        }
    }

    @Test
    void rfc6298_rtoDoublesOnEachExpiry() {
        try (TcpTestNetwork net = new TcpTestNetwork(65, TcpFixtures.config())) {
            TcpConnection[] c = TcpFixtures.connect(net);
            net.clearCaptured();
            net.dropFilter = TcpTestNetwork.Segment::fromA;
            c[0].send(java.nio.ByteBuffer.wrap(new byte[100]));
            net.runFor(10_000);
            List<Long> times = new ArrayList<>();
            for (TcpTestNetwork.Segment s : net.captured()) {
                if (s.fromA() && s.payloadLength() > 0) {
                    times.add(s.sentAtNanos());
                }
            }
            assertTrue(times.size() >= 5);
            long first = times.get(1) - times.get(0);
            assertEquals(200_000_000L, first, "RTO = the 200 ms minimum on a fast link");
            for (int i = 2; i < 5; i++) {
                assertEquals(2 * (times.get(i - 1) - times.get(i - 2)), times.get(i) - times.get(i - 1));
            }
            assertEquals(times.size() - 1, net.a.layer.counters().get(TcpCounter.RTO_EXPIRIES));
        }
    }

    @Test
    void rfc6298_minimumRtoIsConfigurable() {
        try (TcpTestNetwork net = new TcpTestNetwork(66, TcpFixtures.config("rto.min.ms", "50"))) {
            TcpConnection[] c = TcpFixtures.connect(net);
            net.clearCaptured();
            net.dropFilter = TcpTestNetwork.Segment::fromA;
            c[0].send(java.nio.ByteBuffer.wrap(new byte[100]));
            net.runFor(60);
            assertEquals(2, TcpFixtures.sentBy(net, c[0]).size(), "sent, then resent after 50 ms");
        }
    }

    @Test
    void rfc6298_connectionTimesOutAfterRetries() {
        try (TcpTestNetwork net = new TcpTestNetwork(67, TcpFixtures.config("retries", "3"))) {
            TcpConnection[] c = TcpFixtures.connect(net);
            net.dropFilter = TcpTestNetwork.Segment::fromA;
            c[0].send(java.nio.ByteBuffer.wrap(new byte[100]));
            net.runFor(60_000);
            assertEquals(TcpState.CLOSED, c[0].state());
            assertEquals(TcpError.TIMED_OUT, c[0].pendingError());
            assertEquals(3, net.a.layer.counters().get(TcpCounter.RTO_EXPIRIES));
            assertEquals(1, net.a.layer.counters().get(TcpCounter.CONNECTIONS_TIMED_OUT));
        }
    }

    /**
     * The default retries (15) are a time, as Linux's tcp_retries2: 924.6 s of timeouts doubling
     * from 200 ms to 120 s, not fifteen timeouts of a small RTO (a lossy LAN link would otherwise
     * lose its connections within seconds).
     */
    @Test
    void rfc1122_dataRetransmissionsGiveUpAfter924SecondsAsLinux() {
        try (TcpTestNetwork net = new TcpTestNetwork(69, TcpFixtures.config())) {
            TcpConnection[] c = TcpFixtures.connect(net);
            net.dropFilter = TcpTestNetwork.Segment::fromA;
            c[0].send(java.nio.ByteBuffer.wrap(new byte[100]));
            long start = net.clock.nanoTime();
            net.runUntilTime(start + 924_000_000_000L);
            assertEquals(TcpState.ESTABLISHED, c[0].state(), "still retrying after 924 s");
            net.runUntilTime(start + 925_000_000_000L);
            assertEquals(TcpError.TIMED_OUT, c[0].pendingError(), "given up by 924.6 s");
            assertEquals(15, net.a.layer.counters().get(TcpCounter.RTO_EXPIRIES));
        }
    }

    @Test
    void rfc6298_synTimesOutAfterSynRetries() {
        try (TcpTestNetwork net = new TcpTestNetwork(68, TcpFixtures.config("syn.retries", "2"))) {
            net.dropFilter = s -> true;
            TcpConnection c = net.a.layer.connect(TcpTestNetwork.ADDRESS_B, 80);
            net.runFor(60_000);
            assertEquals(TcpError.TIMED_OUT, c.pendingError());
            assertEquals(3, net.captured().size(), "the SYN and two retransmissions");
            assertEquals(1_000_000_000L, net.captured().get(1).sentAtNanos() - net.captured().get(0).sentAtNanos(),
                    "initial RTO of one second");
            assertEquals(2_000_000_000L, net.captured().get(2).sentAtNanos() - net.captured().get(1).sentAtNanos());
        }
    }

    @Test
    void rfc6298_karnIgnoresRetransmittedSegmentsForRtt() {
        try (TcpTestNetwork net = new TcpTestNetwork(69, TcpFixtures.config("timestamps", "false"))) {
            net.delay(10, 0);
            TcpConnection[] c = TcpFixtures.connect(net);
            TcpFixtures.transfer(net, c[0], c[1], new byte[20_000], 10_000);
            long srtt = c[0].smoothedRttNanos();
            assertTrue(Math.abs(srtt - 20_000_000L) < 5_000_000L, "about the 20 ms link RTT: " + srtt);
            // lose one segment: its late ACK (after a 200 ms RTO) must not count as a 200 ms sample
            int[] n = {0};
            net.dropFilter = s -> s.fromA() && s.payloadLength() > 0 && n[0]++ == 0;
            TcpFixtures.transfer(net, c[0], c[1], new byte[100], 10_000);
            assertEquals(1, net.a.layer.counters().get(TcpCounter.RTO_EXPIRIES));
            assertTrue(c[0].smoothedRttNanos() < 30_000_000L, "no sample from the retransmission: "
                    + c[0].smoothedRttNanos());
        }
    }

    @Test
    void rfc6675_sackedBytesDetectLossWithoutThreeDuplicateAcks() {
        try (TcpTestNetwork net = new TcpTestNetwork(70, TcpFixtures.config())) {
            TcpConnection[] c = TcpFixtures.connect(net);
            c[0].noDelay(true);
            TcpFixtures.transfer(net, c[0], c[1], new byte[50_000], 10_000); // cwnd well above 4 segments
            net.clearCaptured();
            dropDataSegments(net, 0);
            int[] acks = {0};
            java.util.function.Predicate<TcpTestNetwork.Segment> dropData = net.dropFilter;
            // of B's duplicate ACKs only the last (SACKing three segments) gets through
            net.dropFilter = s -> dropData.test(s) || (!s.fromA() && s.options().sackBlockCount > 0 && ++acks[0] < 3);
            int mss = c[0].mss();
            c[0].send(java.nio.ByteBuffer.wrap(new byte[4 * mss]));
            net.runFor(50);
            assertEquals(1, net.a.layer.counters().get(TcpCounter.SACK_RECOVERIES),
                    "recovery from one SACK covering 3 MSS");
            assertEquals(0, net.a.layer.counters().get(TcpCounter.RTO_EXPIRIES));
            assertEquals(4 * mss, c[1].available(), "the hole was repaired");
        }
    }
}
