package io.slipstream.interop;

import static io.slipstream.testing.StackCalls.inside;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.slipstream.config.StackConfig;
import io.slipstream.ip.IpCounter;
import io.slipstream.stack.Stack;
import io.slipstream.stack.StackCounter;
import io.slipstream.tcp.TcpCounter;
import io.slipstream.tcp.TcpConnection;
import io.slipstream.tcp.TcpError;
import io.slipstream.tcp.TcpLayer;
import io.slipstream.tcp.TcpListener;
import io.slipstream.tcp.TcpState;
import io.slipstream.testing.StackPair;
import io.slipstream.time.VirtualClock;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicInteger;
import net.jqwik.api.statistics.Statistics;

/**
 * Two real stacks with TCP over one impaired in-memory link, on a virtual clock that only this
 * test moves: it polls both stacks, plays both applications, and when nothing is left to do
 * now jumps to the next timer (or, while frames are on the wire, by a small step). Every
 * random choice (link impairments, ISN and port secrets, the stacks' own randomness, chunk
 * sizes) comes from the seed, so a run is replayed exactly by its parameters.
 *
 * <p>One exchange: A connects to B, both write their whole stream in random-size chunks while
 * reading the other's in random-size chunks, then they close as the {@link Closing} variant
 * says. Checked throughout and after: every byte arrives once, in order and unaltered; no
 * error on either side; both connections end in CLOSED or TIME-WAIT within bounded virtual
 * time and are gone after 2·MSL; no internal error; every packet buffer is back in its pool
 * once the stacks are closed.
 */
final class TcpOverStacks implements AutoCloseable {
    static final int B_ADDRESS = 0xC6120002; // 198.18.0.2
    private static final int PORT = 7001;
    private static final long MSL_MS = 500;
    /** Virtual time an exchange may take, however bad the link: far beyond any backoff it needs. */
    private static final long LIMIT_NANOS = 3_600_000_000_000L;
    private static final AtomicInteger LINKS = new AtomicInteger();
    private static final int MAX_CONNECT_ATTEMPTS = 20;
    /** Small rings and pools keep a try cheap; TCP's traffic needs no fragment reassembly. */
    private static final Map<String, String> SMALL_STACK = Map.of(
            "slipstream.nic.buffers", "256",
            "slipstream.nic.rx.ring", "64",
            "slipstream.nic.tx.ring", "64",
            "slipstream.ip.reassembly.slots", "0",
            "slipstream.ip.jumbo.buffers", "1");
    /** Statistics labels: a try in which some segment was retransmitted / arrived out of order or twice. */
    static final String RETRANSMITTED = "retransmitted";
    static final String OUT_OF_ORDER = "out of order or duplicate";

    /** How the two sides end the exchange. */
    enum Closing {
        /** Each side shuts its output as soon as its stream is queued, reads to EOF, then closes. */
        BOTH_HALF_CLOSE,
        /**
         * A shuts its output first; B keeps sending (RFC 9293 half-close) and shuts its own
         * output only after it has read A's end of stream.
         */
        A_FIRST_THEN_B,
        /**
         * A shuts its output first; B calls {@code close()} once its stream is queued and it has
         * read A's end of stream, with data possibly still unsent: the orphaned connection must
         * deliver it.
         */
        B_CLOSES_WITH_DATA_QUEUED
    }

    final VirtualClock clock = new VirtualClock();
    final Stack a;
    final Stack b;
    final TcpLayer tcpA;
    final TcpLayer tcpB;
    private final long wireStepNanos;

    /**
     * @param link {@code slipstream.memory.*} impairments (set on both ends)
     * @param tcp {@code slipstream.tcp.*} settings for both stacks
     */
    TcpOverStacks(long seed, Map<String, String> link, Map<String, String> tcp) {
        String name = "tcpx" + ProcessHandle.current().pid() % 10_000 + "n" + LINKS.incrementAndGet();
        Map<String, String> common = new HashMap<>(link);
        common.putAll(tcp);
        common.put("slipstream.memory.seed", Long.toString(seed));
        common.put("slipstream.tcp.msl.ms", Long.toString(MSL_MS));
        a = Stack.open(config(name, "198.18.0.1/24", "02:00:00:00:01:0a", seed, common), clock);
        Stack opened;
        try {
            opened = Stack.open(config(name, "198.18.0.2/24", "02:00:00:00:01:0b", ~seed, common), clock);
        } catch (RuntimeException e) {
            a.close();
            throw e;
        }
        b = opened;
        tcpA = a.tcp(); // its ISN, port and cookie secret comes from the stack's seed
        tcpB = b.tcp();
        long delayNanos = Long.parseLong(link.getOrDefault("slipstream.memory.delay.usec", "0")) * 1000;
        this.wireStepNanos = Math.max(20_000, delayNanos / 8);
    }

    private static StackConfig config(String link, String cidr, String mac, long seed, Map<String, String> common) {
        Map<String, String> m = new HashMap<>(SMALL_STACK);
        m.putAll(common);
        m.put("slipstream.mac", mac);
        m.put("slipstream.random.seed", Long.toString(seed));
        return StackPair.config(link, cidr, m); // memory driver, driven by the test thread on virtual time
    }

    /** One side's application: writes its stream, reads the peer's, and checks every byte as it comes. */
    private static final class End {
        final String name;
        final TcpConnection conn;
        final byte[] out;
        final byte[] expected;
        final ByteBuffer chunk;
        final SplittableRandom chunks;
        final int maxWrite;
        int written;
        int read;
        boolean eof;
        boolean shut;
        boolean closed;

        End(String name, TcpConnection conn, byte[] out, byte[] expected, int maxWrite, int maxRead, long seed) {
            this.name = name;
            this.conn = conn;
            this.out = out;
            this.expected = expected;
            this.maxWrite = maxWrite;
            this.chunk = ByteBuffer.allocate(maxRead);
            this.chunks = new SplittableRandom(seed);
        }

        boolean allQueued() {
            return written == out.length;
        }

        /** Queues random-size chunks while the send buffer takes them, if the state still sends. */
        void write() {
            while (!allQueued() && !shut
                    && (conn.state() == TcpState.ESTABLISHED || conn.state() == TcpState.CLOSE_WAIT)) {
                int len = Math.min(out.length - written, 1 + chunks.nextInt(maxWrite));
                int n = conn.send(ByteBuffer.wrap(out, written, len));
                written += n;
                if (n < len) {
                    return; // the send buffer is full
                }
            }
        }

        /** Reads random-size chunks until none is there; checks each against the expected stream. */
        void read() {
            if (eof || closed) {
                return;
            }
            for (int guard = 0; guard <= expected.length + 1; guard++) {
                chunk.clear();
                chunk.limit(1 + chunks.nextInt(chunk.capacity()));
                int n = conn.receive(chunk);
                if (n < 0) {
                    eof = true;
                    return;
                }
                if (n == 0) {
                    return;
                }
                if (read + n > expected.length) {
                    throw new AssertionError(name + " read " + (read + n) + " bytes of a " + expected.length
                            + "-byte stream");
                }
                int mismatch = Arrays.mismatch(chunk.array(), 0, n, expected, read, read + n);
                if (mismatch >= 0) {
                    throw new AssertionError(name + ": byte " + (read + mismatch) + " of the stream altered or out of order");
                }
                read += n;
            }
        }

        void shutdownOutput() {
            if (!shut) {
                shut = true;
                conn.shutdownOutput();
            }
        }

        void close() {
            if (!closed) {
                closed = true;
                shut = true;
                conn.close();
            }
        }

        boolean finished() {
            return conn.state() == TcpState.CLOSED || conn.state() == TcpState.TIME_WAIT;
        }

        @Override
        public String toString() {
            return name + "[" + conn + " wrote " + written + "/" + out.length + " read " + read + "/" + expected.length
                    + (eof ? " eof" : "") + " " + conn.debugState() + "]";
        }
    }

    /** Opens a pair with these settings, runs one {@link #exchange} and closes it, checking for leaks. */
    static void exchange(long seed, Map<String, String> link, Map<String, String> tcp, int sizeAB, int sizeBA,
                         int maxWrite, int maxRead, Closing closing) {
        try (TcpOverStacks net = new TcpOverStacks(seed, link, tcp)) {
            net.exchange(seed, sizeAB, sizeBA, maxWrite, maxRead, closing);
        }
    }

    /**
     * Runs one exchange: {@code sizeAB} bytes from A to B and {@code sizeBA} back, chunk sizes
     * drawn from the seed up to the given maxima, closed as {@code closing} says; asserts the
     * whole contract and closes the stacks.
     */
    void exchange(long seed, int sizeAB, int sizeBA, int maxWrite, int maxRead, Closing closing) {
        byte[] ab = pattern(sizeAB, seed);
        byte[] ba = pattern(sizeBA, ~seed);
        TcpListener listener = inside(b, () -> tcpB.listen(PORT, 4));
        TcpConnection client = connect();
        End x = new End("A", client, ab, ba, maxWrite, maxRead, seed * 31 + 1);
        End[] y = new End[1];
        boolean done = run(() -> {
            if (y[0] == null) {
                TcpConnection accepted = inside(b, listener::accept);
                if (accepted != null) {
                    y[0] = new End("B", accepted, ba, ab, maxWrite, maxRead, seed * 31 + 2);
                }
            }
            inside(a, () -> step(x, closing, true));
            if (y[0] != null) {
                inside(b, () -> step(y[0], closing, false));
            }
            checkNoError(x);
            if (y[0] != null) {
                checkNoError(y[0]);
            }
            return y[0] != null && x.eof && y[0].eof && x.finished() && y[0].finished();
        });
        assertTrue(done, "exchange finished within bounded virtual time: " + x + " " + y[0] + " A=" + tcpA.counters()
                + " B=" + tcpB.counters());
        assertEquals(sizeBA, x.read, "A read B's whole stream");
        assertEquals(sizeAB, y[0].read, "B read A's whole stream");
        inside(a, () -> {
            x.close();
            return null;
        });
        inside(b, () -> {
            y[0].close();
            listener.close();
            return null;
        });
        // TIME-WAIT lasts 2·MSL; after it nothing of the connection is left on either side
        assertTrue(run(() -> tcpA.connectionCount() + tcpB.connectionCount() == 0),
                "TIME-WAIT ended: A=" + tcpA.connections() + " B=" + tcpB.connections());
        assertHealthy();
        // the stack dump shows TCP's counters like every other layer's
        assertTrue(a.counterSnapshot().get("tcp").get("segments_sent") > 0, () -> "A's dump: " + a.counterSnapshot());
        assertEquals(tcpB.counters().snapshot(), b.counterSnapshot().get("tcp"));
        // what the impairments did to TCP, so the properties can check they were felt
        Statistics.label(RETRANSMITTED).collect(bothCount(TcpCounter.RETRANSMITS) > 0);
        Statistics.label(OUT_OF_ORDER).collect(
                bothCount(TcpCounter.OUT_OF_ORDER_SEGMENTS) + bothCount(TcpCounter.DUPLICATE_SEGMENTS) > 0);
    }

    private long bothCount(TcpCounter c) {
        return tcpA.counters().get(c) + tcpB.counters().get(c);
    }

    /**
     * Connects A to B. On a link losing up to a fifth of all frames a connect may legitimately
     * fail: every SYN or SYN-ACK lost (TIMED_OUT), or ARP giving up on the peer after its
     * retries (UNREACHABLE, reported to the SYN-SENT connection as a host-unreachable, as
     * Linux does). An application tries again; so does this test, a bounded number of times.
     */
    private TcpConnection connect() {
        for (int attempt = 1; ; attempt++) {
            TcpConnection c = inside(a, () -> tcpA.connect(B_ADDRESS, PORT));
            assertTrue(run(() -> c.state() != TcpState.SYN_SENT), "connect resolved");
            if (c.state() != TcpState.CLOSED) {
                return c;
            }
            if (attempt == MAX_CONNECT_ATTEMPTS
                    || (c.pendingError() != TcpError.TIMED_OUT && c.pendingError() != TcpError.UNREACHABLE)) {
                throw new AssertionError("connect attempt " + attempt + " failed: " + c.pendingError() + " A="
                        + tcpA.counters() + " B=" + tcpB.counters() + " A's ARP " + a.arp().counters());
            }
            inside(a, () -> {
                c.close();
                return null;
            });
        }
    }

    /** One application step of {@code e}: read, write, and shut or close when its variant says. */
    private static Void step(End e, Closing closing, boolean isA) {
        e.read();
        e.write();
        if (!e.allQueued()) {
            return null;
        }
        switch (closing) {
            case BOTH_HALF_CLOSE -> e.shutdownOutput();
            case A_FIRST_THEN_B, B_CLOSES_WITH_DATA_QUEUED -> {
                if (isA) {
                    e.shutdownOutput();
                } else if (e.eof) {
                    if (closing == Closing.A_FIRST_THEN_B) {
                        e.shutdownOutput();
                    } else {
                        e.close(); // its own stream may still be in the send buffer
                    }
                }
            }
        }
        return null;
    }

    private static void checkNoError(End e) {
        if (e.conn.pendingError() != null) {
            throw new AssertionError(e.name + " failed with " + e.conn.pendingError() + ": " + e);
        }
    }

    /**
     * Polls both stacks and runs {@code step} until it returns true, for at most
     * {@link #LIMIT_NANOS} of virtual time. When neither stack had work, time jumps to the
     * next timer deadline, or by a small step while frames are on the wire (the link's
     * release times are its own).
     */
    boolean run(java.util.function.BooleanSupplier step) {
        long end = clock.nanoTime() + LIMIT_NANOS;
        for (long guard = 0; guard < 100_000_000L; guard++) {
            int work = a.poll() + b.poll();
            if (step.getAsBoolean()) {
                return true;
            }
            if (work > 0) {
                continue;
            }
            long now = clock.nanoTime();
            if (now - end >= 0) {
                return false;
            }
            long next = Math.min(a.timers().nextDeadline(), b.timers().nextDeadline());
            if (a.nic().tx().posted() + b.nic().tx().posted() > 0) {
                next = Math.min(next, now + wireStepNanos);
            }
            clock.advanceTo(Math.min(Math.max(next, now + 1), end));
        }
        throw new AssertionError("too many poll passes");
    }

    /** No internal error in either stack or TCP layer, and no segment too big for the link. */
    void assertHealthy() {
        assertEquals(0, a.ip().counters().get(IpCounter.TX_TOO_BIG), "A sent a segment larger than the MTU");
        assertEquals(0, b.ip().counters().get(IpCounter.TX_TOO_BIG), "B sent a segment larger than the MTU");
        assertEquals(0, a.counters().get(StackCounter.INTERNAL_ERRORS), () -> "A: " + a.firstInternalError());
        assertEquals(0, b.counters().get(StackCounter.INTERNAL_ERRORS), () -> "B: " + b.firstInternalError());
        assertEquals(0, tcpA.counters().get(TcpCounter.DROP_INTERNAL_ERROR), () -> "A: " + tcpA.lastInternalError());
        assertEquals(0, tcpB.counters().get(TcpCounter.DROP_INTERNAL_ERROR), () -> "B: " + tcpB.lastInternalError());
    }

    static byte[] pattern(int n, long seed) {
        byte[] bytes = new byte[n];
        new SplittableRandom(seed).nextBytes(bytes);
        return bytes;
    }

    /** Closes both stacks and checks that every packet buffer went home. */
    @Override
    public void close() {
        try {
            a.close();
        } finally {
            b.close();
        }
        assertEquals(List.of(), a.nic().buffers().leaks(), "A's buffers");
        assertEquals(List.of(), b.nic().buffers().leaks(), "B's buffers");
        assertEquals(0, a.outstandingJumboBuffers());
        assertEquals(0, b.outstandingJumboBuffers());
    }
}
