package io.slipstream.tcp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.slipstream.testing.StackPair;
import java.nio.ByteBuffer;
import org.junit.jupiter.api.Test;

/**
 * ACKs for in-order data held to the end of the poll pass that received it ({@link HeldAcks}):
 * Linux ACKs the segments GRO merged (up to 64 KiB) once, where RFC 5681 §4.2 asks for an ACK
 * every second full-sized segment. Two stacks on a memory link, driven by this thread: the
 * sender's burst is on the receiver's rx ring before the receiver polls once.
 */
class TcpHeldAcksTest {
    private static final int PORT = 7100;

    /** A connection from B (client) to A (server), established; returns {client, server}. */
    private static TcpConnection[] connect(StackPair p, TcpConnectOptions serverOptions) {
        TcpListener listener = p.a.tcp().listen(PORT, 4, serverOptions);
        TcpConnection client = p.b.tcp().connect(StackPair.A_ADDRESS, PORT);
        TcpConnection[] server = new TcpConnection[1];
        p.runUntil(() -> client.connected() && (server[0] = listener.accept()) != null);
        assertNotNull(server[0]);
        return new TcpConnection[] {client, server[0]};
    }

    /** Segments A's TCP sends during one poll pass of A, after B has pushed its burst onto the link. */
    private static long acksOfOnePass(StackPair p) {
        p.b.poll(); // rings B's doorbell: the burst is on A's rx ring
        long before = p.a.tcp().counters().get(TcpCounter.SEGMENTS_SENT);
        p.a.poll(256); // a budget for the whole burst and the completions before it
        return p.a.tcp().counters().get(TcpCounter.SEGMENTS_SENT) - before;
    }

    /** Sends {@code bytes} from {@code from} to {@code to}, reading as they arrive, until all are read. */
    private static void transfer(StackPair p, TcpConnection from, TcpConnection to, int bytes) {
        ByteBuffer data = ByteBuffer.allocate(bytes);
        ByteBuffer sink = ByteBuffer.allocate(64 * 1024);
        int[] got = {0};
        p.runUntil(() -> {
            from.send(data);
            while (to.available() > 0) {
                got[0] += to.receive(sink.clear());
            }
            return got[0] == bytes;
        });
    }

    @Test
    void rfc5681_inOrderSegmentsOfOnePassShareOneAck() {
        try (StackPair p = StackPair.entered()) {
            TcpConnection[] c = connect(p, TcpConnectOptions.DEFAULT);
            c[1].quickAck(false); // past the quick-ACK start: an ACK every second segment is the rule
            int mss = c[0].mss();
            int burst = 10 * mss; // the initial window (RFC 6928)
            assertEquals(burst, c[0].send(ByteBuffer.allocate(burst)));
            assertEquals(1, acksOfOnePass(p), "ten full segments in one pass: one ACK, not five");
            assertEquals(burst, c[1].available());
            p.settle();
            assertEquals(0, c[0].unacknowledged(), "the one ACK covers the whole burst");
            p.assertHealthy();
        }
    }

    @Test
    void aPassNeverHoldsMoreThanSixtyFourKibibytesUnacknowledged() {
        try (StackPair p = StackPair.entered()) {
            // SO_RCVBUF set: no auto-tuning, so more than 64 KiB may come in one burst
            TcpConnection[] c = connect(p, TcpConnectOptions.DEFAULT.withBuffers(1 << 20, 0));
            transfer(p, c[0], c[1], 2 << 20); // grows the congestion window past the burst below
            p.settle();
            c[1].quickAck(false);
            int mss = c[0].mss();
            int segments = 60;
            assertTrue(c[0].congestionWindow() >= (long) segments * mss, "window " + c[0].congestionWindow());
            assertEquals(segments * mss, c[0].send(ByteBuffer.allocate(segments * mss)));
            long acks = acksOfOnePass(p);
            assertEquals(segments * mss, c[1].available(), "the whole burst in the one pass");
            int perAck = HeldAcks.MAX_HELD_BYTES / mss + 1; // the segment that reaches the bound is ACKed at once
            assertEquals((segments + perAck - 1) / perAck, acks, "an ACK at every 64 KiB, one for the rest at the end");
            p.settle();
            assertEquals(0, c[0].unacknowledged());
            p.assertHealthy();
        }
    }
}
