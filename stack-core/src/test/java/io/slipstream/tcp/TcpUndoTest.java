package io.slipstream.tcp;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.slipstream.testing.TcpTestNetwork;
import io.slipstream.wire.TcpOptions;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** D-SACK (RFC 2883) between two stacks, and the undo of needless reductions (RFC 3708, RFC 5682 F-RTO). */
class TcpUndoTest {

    @Test
    void rfc2883_dataReceivedTwiceIsReportedInTheFirstSackBlock() {
        try (TcpTestNetwork net = new TcpTestNetwork(91, TcpFixtures.config()).delay(10, 0)) {
            TcpConnection[] c = TcpFixtures.warmPair(net);
            int seq = c[0].sndMax();
            // B's ACKs of one segment vanish until A resends it (a probe or the RTO)
            net.dropFilter = s -> !s.fromA() && TcpFixtures.counter(net.a, TcpCounter.RETRANSMITS) == 0;
            c[0].send(ByteBuffer.wrap(new byte[100]));
            assertTrue(net.runUntil(() -> c[0].sndUna() == seq + 100, 10_000));
            TcpTestNetwork.Segment last = TcpFixtures.sentBy(net, c[1]).getLast();
            TcpOptions o = last.options();
            assertEquals(seq + 100, last.ack());
            assertTrue(o.sackBlockCount >= 1, "a D-SACK block: " + last);
            assertEquals(seq, o.sackLeft[0]);
            assertEquals(seq + 100, o.sackRight[0], "the duplicate, below the cumulative ACK");
            assertEquals(1, TcpFixtures.counter(net.b, TcpCounter.DSACKS_SENT));
            assertEquals(1, TcpFixtures.counter(net.a, TcpCounter.DSACKS_RECEIVED));
        }
    }

    /**
     * The brief's case: the last ACKs of a flight vanish, the RTO fires though nothing was
     * lost, and the window fell to one segment with nothing to restore it. F-RTO sees data never
     * retransmitted acknowledged after the timeout, and the window comes back.
     */
    @Test
    void rfc5682_spuriousTimeoutIsUndone() {
        try (TcpTestNetwork net = new TcpTestNetwork(92, TcpFixtures.config("sndbuf", "262144", "rcvbuf", "262144"))
                .delay(10, 0)) {
            TcpConnection[] c = TcpFixtures.warmPair(net);
            long cwndBefore = c[0].congestionWindow();
            // every ACK from B is lost until A's retransmission timer expires
            net.dropFilter = s -> !s.fromA() && TcpFixtures.counter(net.a, TcpCounter.RTO_EXPIRIES) == 0;
            byte[] data = TcpFixtures.pattern(8 * c[0].mss(), 5);
            assertArrayEquals(data, TcpFixtures.transfer(net, c[0], c[1], data, 10_000));
            assertTrue(net.runUntil(() -> c[0].sndUna() == c[0].sndMax(), 10_000));
            assertEquals(1, TcpFixtures.counter(net.a, TcpCounter.RTO_EXPIRIES));
            assertEquals(1, TcpFixtures.counter(net.a, TcpCounter.SPURIOUS_TIMEOUTS));
            assertTrue(c[0].congestionWindow() >= cwndBefore,
                    "the window came back: " + c[0].congestionWindow() + " >= " + cwndBefore);
        }
    }

    /**
     * A segment overtaken by three later ones looks lost; its fast retransmission arrives, then
     * the original: B's D-SACK shows the only retransmission was needless, and A's window goes
     * back to where it was.
     */
    @Test
    void rfc3708_dsackUndoesAReductionCausedByReordering() {
        try (TcpTestNetwork net = new TcpTestNetwork(93, TcpFixtures.config("sndbuf", "262144", "rcvbuf", "262144"))
                .delay(10, 0)) {
            TcpConnection[] c = TcpFixtures.warmPair(net);
            long cwndBefore = c[0].congestionWindow();
            int victim = c[0].sndMax();
            List<TcpTestNetwork.Segment> held = new ArrayList<>();
            net.dropFilter = s -> {
                if (s.fromA() && s.seq() == victim && held.isEmpty()) {
                    held.add(s); // held back, delivered late below
                    return true;
                }
                return false;
            };
            c[0].send(ByteBuffer.wrap(TcpFixtures.pattern(6 * c[0].mss(), 6)));
            assertTrue(net.runUntil(() -> TcpFixtures.counter(net.a, TcpCounter.FAST_RETRANSMITS) == 1, 1_000));
            net.runFor(15); // the retransmission arrives and fills the hole
            net.b.receive(held.get(0).source(), held.get(0).bytes()); // then the original
            net.runFor(100);
            assertEquals(1, TcpFixtures.counter(net.b, TcpCounter.DSACKS_SENT));
            assertEquals(1, TcpFixtures.counter(net.a, TcpCounter.CONGESTION_UNDOS));
            assertTrue(c[0].congestionWindow() >= cwndBefore,
                    "the window came back: " + c[0].congestionWindow() + " >= " + cwndBefore);
            assertEquals(c[0].sndMax(), c[0].sndUna());
        }
    }
}
