package io.slipstream.interop;

import static io.slipstream.testing.StackCalls.holding;
import static io.slipstream.testing.StackCalls.inside;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.slipstream.tcp.TcpConnectOptions;
import io.slipstream.tcp.TcpConnection;
import io.slipstream.tcp.TcpLayer;
import io.slipstream.tcp.TcpListener;
import io.slipstream.testing.StackPair;
import java.nio.ByteBuffer;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The stack's protocol layers read a clock cached per pass (PassClock). This proves, end to
 * end, that the time TCP sees is the time of its own pass and never a reading left from an
 * earlier one: over a link with 5 ms of delay each way, on virtual time that moves only
 * between passes, every RTT sample, and so the smoothed RTT, is the 10 ms round trip to within
 * one step of the test's clock per leg, and every round trip takes the link's 10 ms on the
 * test's own clock. Half the sends are made after the clock moved on while the stack sat idle,
 * in a hold of the lock that took no reading of its own (as code holding the lock without a
 * poll does): that send must read the source, not the last pass's reading, or the frame leaves
 * "in the past" and the round trip comes out short by the idle time. (The handshake's sample
 * also waited for ARP, 20 ms; after 60 exact samples the smoothed RTT keeps under 1 µs of it:
 * 10 ms · (7/8)^60.)
 */
class PassClockRttTest {
    private static final long DELAY_NANOS = 5_000_000;
    private static final long STEP_NANOS = 50_000;
    private static final long IDLE_NANOS = 3_000_000;

    @Test
    void roundTripsAndRttSamplesMatchTheLinkWhetherOrNotTheHoldPolled() {
        try (StackPair pair = new StackPair(Map.of("slipstream.memory.delay.usec", Long.toString(DELAY_NANOS / 1000)))) {
            TcpLayer tcpA = pair.a.tcp();
            TcpLayer tcpB = pair.b.tcp();
            TcpConnectOptions options = TcpConnectOptions.DEFAULT.withNoDelay(true);
            TcpListener listener = inside(pair.b, () -> tcpB.listen(7001, 1, options));
            TcpConnection client = inside(pair.a, () -> tcpA.connect(StackPair.B_ADDRESS, 7001, 0, options));
            TcpConnection[] server = new TcpConnection[1];
            pair.runUntil(() -> client.connected() && (server[0] != null
                    || (server[0] = inside(pair.b, listener::accept)) != null), 1_000_000_000L, STEP_NANOS);

            ByteBuffer out = ByteBuffer.allocate(64);
            ByteBuffer echo = ByteBuffer.allocate(64);
            ByteBuffer in = ByteBuffer.allocate(64);
            for (int round = 0; round < 60; round++) {
                out.clear().putInt(0, round);
                echo.clear();
                in.clear();
                if (round % 2 == 1) {
                    pair.clock.advance(IDLE_NANOS);
                }
                long sentAt = pair.clock.nanoTime();
                if (round % 2 == 0) {
                    inside(pair.a, () -> client.send(out));
                } else {
                    holding(pair.a, () -> client.send(out));
                }
                pair.runUntil(() -> inside(pair.b, () -> server[0].receive(echo)) >= 0 && !echo.hasRemaining(),
                        1_000_000_000L, STEP_NANOS);
                echo.flip();
                inside(pair.b, () -> server[0].send(echo)); // the reply carries B's ACK at once
                pair.runUntil(() -> inside(pair.a, () -> client.receive(in)) >= 0 && !in.hasRemaining(),
                        1_000_000_000L, STEP_NANOS);
                assertEquals(round, in.getInt(0));
                // The link's physics, on the test's own clock: no sooner than the delay both ways.
                long roundTrip = pair.clock.nanoTime() - sentAt;
                int r = round;
                assertTrue(roundTrip >= 2 * DELAY_NANOS && roundTrip <= 2 * DELAY_NANOS + 2 * STEP_NANOS,
                        () -> "round " + r + " took " + roundTrip + " ns of virtual time");
            }
            long srtt = client.smoothedRttNanos();
            assertTrue(srtt >= 2 * DELAY_NANOS && srtt <= 2 * DELAY_NANOS + 2 * STEP_NANOS + 1_000,
                    "smoothed RTT " + srtt + " ns on a 10 ms round trip, virtual clock stepping by " + STEP_NANOS);
            pair.assertHealthy();
        }
    }
}
