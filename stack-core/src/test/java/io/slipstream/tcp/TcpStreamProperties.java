package io.slipstream.tcp;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.slipstream.testing.TcpTestNetwork;
import java.nio.ByteBuffer;
import java.util.Arrays;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.DoubleRange;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.LongRange;

/**
 * Random-size streams in both directions over impaired links arrive intact and in order, both
 * sides close cleanly, and the invariants hold after every event. Every run is determined by
 * its parameters (seed included), so a failure shrinks to a reproducible case.
 */
class TcpStreamProperties {
    private static final long LIMIT_MS = 3_600_000;

    /** One bidirectional exchange, checked throughout; returns the network for extra checks. */
    static TcpTestNetwork exchange(long seed, TcpConfig cfgA, TcpConfig cfgB, double loss, double dup, double reorder,
                                   int delayMs, int sizeAB, int sizeBA, int readChunk, boolean closeCheck) {
        // jitter reorders too, so it comes with the reorder impairment
        return exchange(new TcpTestNetwork(seed, cfgA, cfgB).capture(false)
                .delay(delayMs, reorder > 0 ? delayMs * 300L : 0).impair(loss, dup, reorder),
                seed, sizeAB, sizeBA, readChunk, closeCheck);
    }

    static TcpTestNetwork exchange(TcpTestNetwork net, long seed, int sizeAB, int sizeBA, int readChunk,
                                   boolean closeCheck) {
        TcpInvariants inv = new TcpInvariants(net);
        TcpListener l = net.b.layer.listen(TcpFixtures.PORT, 4);
        TcpConnection x = net.a.layer.connect(TcpTestNetwork.ADDRESS_B, TcpFixtures.PORT);
        TcpConnection[] y = new TcpConnection[1];
        byte[] ab = TcpFixtures.pattern(sizeAB, seed);
        byte[] ba = TcpFixtures.pattern(sizeBA, ~seed);
        ByteBuffer srcA = ByteBuffer.wrap(ab);
        ByteBuffer srcB = ByteBuffer.wrap(ba);
        ByteBuffer gotB = ByteBuffer.allocate(sizeAB + 1);
        ByteBuffer gotA = ByteBuffer.allocate(sizeBA + 1);
        ByteBuffer chunk = ByteBuffer.allocate(readChunk);
        boolean[] eof = new boolean[2];
        boolean[] shut = new boolean[2];
        boolean done = net.runUntil(() -> {
            inv.check();
            if (y[0] == null) {
                y[0] = l.accept();
            }
            shut[0] = push(x, srcA, shut[0]);
            if (y[0] != null) {
                shut[1] = push(y[0], srcB, shut[1]);
                eof[1] |= pull(y[0], chunk, gotB);
            }
            eof[0] |= pull(x, chunk, gotA);
            return eof[0] && eof[1] && TcpFixtures.done(x) && TcpFixtures.done(y[0]);
        }, LIMIT_MS);
        assertTrue(done, "exchange finished: x=" + x + " y=" + y[0] + " got " + gotB.position() + "/" + sizeAB
                + " and " + gotA.position() + "/" + sizeBA + " " + net.a.layer.counters() + " " + net.b.layer.counters());
        assertArrayEquals(ab, Arrays.copyOf(gotB.array(), gotB.position()), "A->B stream intact");
        assertArrayEquals(ba, Arrays.copyOf(gotA.array(), gotA.position()), "B->A stream intact");
        assertEquals(null, x.pendingError());
        assertEquals(null, y[0].pendingError());
        inv.check();
        if (closeCheck) {
            x.close();
            y[0].close();
            l.close();
            net.runFor(2 * net.a.layer.config().mslMs() + 2 * net.b.layer.config().mslMs() + 10);
            assertEquals(0, net.a.layer.connectionCount() + net.b.layer.connectionCount(),
                    "everything CLOSED after TIME-WAIT");
        }
        return net;
    }

    /** Sends what fits, then shuts the output once everything is queued; returns whether it did. */
    static boolean push(TcpConnection c, ByteBuffer src, boolean shut) {
        if (c.state() != TcpState.ESTABLISHED && c.state() != TcpState.CLOSE_WAIT) {
            return shut;
        }
        if (src.hasRemaining()) {
            c.send(src);
            return false;
        }
        if (!shut) {
            c.shutdownOutput();
        }
        return true;
    }

    /** Reads what is there into {@code into}; true at end of stream. */
    static boolean pull(TcpConnection c, ByteBuffer chunk, ByteBuffer into) {
        for (int i = 0; i <= into.capacity() + 1; i++) { // until empty: the stream may have no more events
            chunk.clear();
            int n = c.receive(chunk);
            if (n < 0) {
                return true;
            }
            if (n == 0) {
                return false;
            }
            chunk.flip();
            if (chunk.remaining() > into.remaining()) {
                throw new AssertionError("more bytes delivered than were sent");
            }
            into.put(chunk);
        }
        return false;
    }

    static TcpConfig cfg(String... kv) {
        String[] all = Arrays.copyOf(kv, kv.length + 2);
        all[kv.length] = "msl.ms";
        all[kv.length + 1] = "500";
        return TcpFixtures.config(all);
    }

    @Property
    void streamsArriveIntactOverImpairedLinks(@ForAll long seed, @ForAll @DoubleRange(max = 0.2) double loss,
                                              @ForAll @DoubleRange(max = 0.1) double dup,
                                              @ForAll @DoubleRange(max = 0.2) double reorder,
                                              @ForAll @IntRange(max = 20) int delayMs,
                                              @ForAll @IntRange(max = 30_000) int ab, @ForAll @IntRange(max = 30_000) int ba) {
        exchange(seed, cfg(), cfg(), loss, dup, reorder, delayMs, ab, ba, 4096, true).close();
    }

    @Property
    void streamsArriveIntactWithNewReno(@ForAll long seed, @ForAll @DoubleRange(max = 0.2) double loss,
                                        @ForAll @DoubleRange(max = 0.2) double reorder,
                                        @ForAll @IntRange(max = 30_000) int ab, @ForAll @IntRange(max = 30_000) int ba) {
        exchange(seed, cfg("cc", "newreno"), cfg("cc", "newreno"), loss, 0.02, reorder, 5, ab, ba, 4096, true).close();
    }

    @Property
    void streamsArriveIntactWithoutSack(@ForAll long seed, @ForAll @DoubleRange(max = 0.2) double loss,
                                        @ForAll @DoubleRange(max = 0.2) double reorder,
                                        @ForAll @IntRange(max = 30_000) int ab, @ForAll @IntRange(max = 30_000) int ba) {
        exchange(seed, cfg("sack", "false"), cfg(), loss, 0.02, reorder, 5, ab, ba, 4096, true).close();
    }

    @Property
    void streamsArriveIntactWithoutAnyOptions(@ForAll long seed, @ForAll @DoubleRange(max = 0.2) double loss,
                                              @ForAll @IntRange(max = 30_000) int ab,
                                              @ForAll @IntRange(max = 30_000) int ba) {
        TcpConfig bare = cfg("sack", "false", "timestamps", "false", "window.scaling", "false");
        exchange(seed, bare, cfg(), loss, 0.02, 0.1, 5, ab, ba, 4096, true).close();
    }

    @Property
    void streamsArriveIntactWithSmallBuffers(@ForAll long seed, @ForAll @DoubleRange(max = 0.2) double loss,
                                             @ForAll @IntRange(min = 1024, max = 8192) int rcvbuf,
                                             @ForAll @IntRange(min = 1024, max = 8192) int sndbuf,
                                             @ForAll @IntRange(min = 1, max = 3000) int readChunk,
                                             @ForAll @IntRange(max = 20_000) int ab, @ForAll @IntRange(max = 20_000) int ba) {
        TcpConfig c = cfg("rcvbuf", Integer.toString(rcvbuf), "sndbuf", Integer.toString(sndbuf));
        exchange(seed, c, c, loss, 0.02, 0.1, 3, ab, ba, readChunk, true).close();
    }

    /**
     * A sample of the property above that deadlocked: both sides' last segments lost, each
     * window filled exactly by the other's data in flight, a reordered window update shrinking
     * the window to zero, and each side's window update riding only on pure ACKs sent from the
     * right edge of the other's window (RFC 9293 §3.10.7.4 takes them, as Linux does).
     */
    @Example
    void rfc9293_pureAcksAtTheRightEdgeOfTheWindowAreTaken() {
        TcpConfig c = cfg("rcvbuf", "1026", "sndbuf", "1026");
        exchange(307880L, c, c, 0.19, 0.02, 0.1, 3, 1540, 1540, 2, true).close();
    }

    /**
     * A sample of the small-buffers property that stalled: a timeout found spurious (RFC 5682)
     * re-armed the retransmission timer with nothing in flight, so a FIN waiting behind a zero
     * window never got the persist timer and was never sent.
     */
    @Example
    void rfc5682_undoneTimeoutLeavesAZeroWindowToThePersistTimer() {
        TcpConfig c = cfg("rcvbuf", "1024", "sndbuf", "1025");
        exchange(-210L, c, c, 0.11, 0.02, 0.1, 3, 1537, 2051, 3, true).close();
    }

    @Property
    void streamsArriveIntactAcrossSequenceWrap(@ForAll long seed, @ForAll @IntRange(min = 1, max = 40_000) int beforeWrapA,
                                               @ForAll @DoubleRange(max = 0.1) double loss,
                                               @ForAll @IntRange(min = 1, max = 40_000) int ab) {
        // both ISNs just below 2^32 so the streams cross zero
        TcpTestNetwork probe = new TcpTestNetwork(seed, cfg());
        probe.close();
        TcpConfig c = cfg();
        TcpTestNetwork net = new TcpTestNetwork(seed, c, c);
        try {
            net.a.layer.hasIsnOverride = true;
            net.a.layer.isnOverride = -beforeWrapA;
            net.b.layer.hasIsnOverride = true;
            net.b.layer.isnOverride = -beforeWrapA / 2 - 1;
            net.impair(loss, 0.01, 0.05).capture(false);
            TcpConnection[] conn = TcpFixtures.connect(net);
            byte[] data = TcpFixtures.pattern(ab, seed);
            assertArrayEquals(data, TcpFixtures.transfer(net, conn[0], conn[1], data, LIMIT_MS));
            assertArrayEquals(data, TcpFixtures.transfer(net, conn[1], conn[0], data, LIMIT_MS));
            TcpFixtures.closeBoth(net, conn[0], conn[1]);
        } finally {
            net.close();
        }
    }

    @Property
    void cleanLinkNeverRetransmits(@ForAll long seed, @ForAll @IntRange(max = 30) int delayMs,
                                   @ForAll @IntRange(max = 50_000) int ab, @ForAll @IntRange(max = 50_000) int ba) {
        try (TcpTestNetwork net = exchange(seed, cfg(), cfg(), 0, 0, 0, delayMs, ab, ba, 8192, false)) {
            assertEquals(0, net.a.layer.counters().get(TcpCounter.RETRANSMITS)
                    + net.b.layer.counters().get(TcpCounter.RETRANSMITS));
            assertEquals(0, net.a.layer.counters().get(TcpCounter.RTO_EXPIRIES)
                    + net.b.layer.counters().get(TcpCounter.RTO_EXPIRIES));
        }
    }

    @Property
    void rttEstimateTracksTheLink(@ForAll long seed, @ForAll @IntRange(min = 1, max = 100) int delayMs,
                                  @ForAll boolean timestamps) {
        TcpConfig c = cfg("timestamps", Boolean.toString(timestamps));
        try (TcpTestNetwork net = new TcpTestNetwork(seed, c)) {
            net.delay(delayMs, 0).capture(false);
            TcpConnection[] conn = TcpFixtures.connect(net);
            conn[0].noDelay(true);
            TcpFixtures.transfer(net, conn[0], conn[1], new byte[60_000], LIMIT_MS);
            long srtt = conn[0].smoothedRttNanos();
            long rtt = 2L * delayMs * 1_000_000L;
            // ACKs may be held for the delayed-ACK timer (40 ms) on the way back
            assertTrue(srtt >= rtt - 1_000_000L && srtt <= rtt + 41_000_000L, "srtt " + srtt + " for rtt " + rtt);
            assertTrue(conn[0].retransmissionTimeoutNanos() >= 200_000_000L, "never below the minimum");
        }
    }

    @Property
    void slowReaderGetsEverything(@ForAll long seed, @ForAll @IntRange(min = 1, max = 2000) int readChunk,
                                  @ForAll @IntRange(min = 1, max = 500) int readEveryMs,
                                  @ForAll @IntRange(max = 20_000) int size) {
        TcpConfig c = cfg("rcvbuf", "4096");
        try (TcpTestNetwork net = new TcpTestNetwork(seed, c)) {
            net.capture(false);
            TcpInvariants inv = new TcpInvariants(net);
            TcpConnection[] conn = TcpFixtures.connect(net);
            byte[] data = TcpFixtures.pattern(size, seed);
            ByteBuffer src = ByteBuffer.wrap(data);
            ByteBuffer got = ByteBuffer.allocate(size);
            ByteBuffer chunk = ByteBuffer.allocate(readChunk);
            for (int step = 0; step < 100_000 && got.hasRemaining(); step++) {
                conn[0].send(src);
                net.runFor(readEveryMs);
                inv.check();
                chunk.clear();
                int n = conn[1].receive(chunk);
                if (n > 0) {
                    chunk.flip();
                    got.put(chunk);
                }
            }
            assertArrayEquals(data, got.array());
            assertEquals(0, net.a.layer.counters().get(TcpCounter.CONNECTIONS_TIMED_OUT));
        }
    }

    @Property
    void simultaneousOpenEstablishesOverImpairedLinks(@ForAll long seed, @ForAll @DoubleRange(max = 0.2) double loss,
                                                      @ForAll @IntRange(max = 20) int delayMs,
                                                      @ForAll @LongRange(max = 5_000_000) long skewNanos) {
        try (TcpTestNetwork net = new TcpTestNetwork(seed, cfg())) {
            net.impair(loss, 0.05, 0.1).delay(delayMs, 1000).capture(false);
            TcpInvariants inv = new TcpInvariants(net);
            TcpConnection x = net.a.layer.connect(TcpTestNetwork.ADDRESS_B, 6000, 5000, TcpConnectOptions.DEFAULT);
            net.runUntilTime(net.clock.nanoTime() + skewNanos);
            TcpConnection y = net.b.layer.connect(TcpTestNetwork.ADDRESS_A, 5000, 6000, TcpConnectOptions.DEFAULT);
            boolean ok = net.runUntil(() -> {
                inv.check();
                return x.state() == TcpState.ESTABLISHED && y.state() == TcpState.ESTABLISHED;
            }, LIMIT_MS);
            if (!ok) {
                // a SYN can meet the other side after it gave up; then both must have failed cleanly
                assertTrue(x.state() == TcpState.CLOSED || y.state() == TcpState.CLOSED, x + " " + y);
                return;
            }
            byte[] data = TcpFixtures.pattern(5000, seed);
            assertArrayEquals(data, TcpFixtures.transfer(net, x, y, data, LIMIT_MS));
            TcpFixtures.closeBoth(net, x, y);
            inv.check();
        }
    }
}
