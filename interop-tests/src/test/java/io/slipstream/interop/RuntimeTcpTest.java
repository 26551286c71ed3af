package io.slipstream.interop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.slipstream.bench.BlockingConnection;
import io.slipstream.bench.TcpPair;
import io.slipstream.stack.RuntimeCounter;
import io.slipstream.stack.Stack;
import io.slipstream.stack.StackCounter;
import io.slipstream.stack.WaitQueue;
import io.slipstream.tcp.TcpConnectOptions;
import io.slipstream.tcp.TcpListener;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/** The stack runtime over the in-memory NIC with TCP: blocking, interrupts, busy polling. */
class RuntimeTcpTest {
    private static final int PORT = 5001;

    /** A connected pair of blocking sockets: [0] on stack A (client), [1] on stack B (server). */
    static BlockingConnection[] connect(TcpPair p, TcpConnectOptions options) throws Exception {
        TcpListener[] l = new TcpListener[1];
        WaitQueue lq = BlockingConnection.listen(p.b, p.tcpB, PORT, 16, options, l);
        try (ExecutorService ex = Executors.newVirtualThreadPerTaskExecutor()) {
            Future<BlockingConnection> server = ex.submit(() -> BlockingConnection.accept(p.b, l[0], lq));
            BlockingConnection client = BlockingConnection.connect(p.a, p.tcpA, TcpPair.B_ADDRESS, PORT, options);
            return new BlockingConnection[] {client, server.get()};
        }
    }

    static long count(Stack s, RuntimeCounter c) {
        return s.runtimeCounters().get(c);
    }

    @Test
    void aBlockedReaderIsWokenThroughTheInterruptThread() throws Exception {
        try (TcpPair p = new TcpPair(Map.of("slipstream.poll.usec", "0"))) {
            assertTimeoutPreemptively(Duration.ofSeconds(60), () -> {
                BlockingConnection[] c = connect(p, TcpConnectOptions.DEFAULT);
                try (ExecutorService ex = Executors.newVirtualThreadPerTaskExecutor()) {
                    Future<Integer> reader = ex.submit(() -> c[1].read(ByteBuffer.allocate(100)));
                    io.slipstream.stack.Stack b = p.b;
                    while (b.blockedThreads() == 0 || !b.interruptsEnabled()) {
                        Thread.sleep(1);
                    }
                    // The reader is parked (poll.usec=0) and B's interrupt is enabled: B's interrupt
                    // thread must process the data and wake it. Whether that pass was started by the
                    // NIC's wakeup or by a timer it was already woken for (a delayed ACK) is timing,
                    // so the test counts the interrupt thread's passes, not its wakeups.
                    long interruptPolls = count(b, RuntimeCounter.INTERRUPT_POLLS);
                    long woken = count(b, RuntimeCounter.THREADS_WOKEN);
                    c[0].write(ByteBuffer.wrap(new byte[] {1, 2, 3, 4, 5}));
                    assertEquals(5, reader.get());
                    assertTrue(count(b, RuntimeCounter.INTERRUPT_POLLS) > interruptPolls, b.runtimeCounters().toString());
                    assertTrue(count(b, RuntimeCounter.THREADS_WOKEN) > woken, b.runtimeCounters().toString());
                }
            });
            assertEquals(0, p.a.counters().get(StackCounter.INTERNAL_ERRORS));
            assertEquals(0, p.b.counters().get(StackCounter.INTERNAL_ERRORS));
        }
    }

    @Test
    void busyPingPongRarelyEnablesInterruptsWhileBlockedThreadsDo() throws Exception {
        int rounds = 2000;
        // Busy: both threads spin (slipstream.poll.usec=-1): they never park, so never enable.
        try (TcpPair p = new TcpPair(Map.of("slipstream.poll.usec", "-1"))) {
            BlockingConnection[] c = connect(p, TcpConnectOptions.DEFAULT.withNoDelay(true));
            long before = enables(p);
            pingPong(c, rounds);
            long busyEnables = enables(p) - before;
            assertEquals(0, busyEnables, "spinning threads never enable the interrupt: A="
                    + p.a.runtimeCounters() + " B=" + p.b.runtimeCounters());
            assertTrue(count(p.a, RuntimeCounter.APP_POLLS) + count(p.b, RuntimeCounter.APP_POLLS) > 4L * rounds);
        }
        // Blocked: no spinning at all (0): every wait for the peer's answer parks, and the
        // thread enables the interrupt unless a rule says someone else will poll.
        try (TcpPair p = new TcpPair(Map.of("slipstream.poll.usec", "0"))) {
            BlockingConnection[] c = connect(p, TcpConnectOptions.DEFAULT.withNoDelay(true));
            long before = enables(p);
            pingPong(c, rounds);
            long enables = enables(p) - before;
            long parks = count(p.a, RuntimeCounter.PARKS) + count(p.b, RuntimeCounter.PARKS);
            assertTrue(enables >= rounds / 4, "blocked threads enable the interrupt: " + enables + " enables, "
                    + parks + " parks; A=" + p.a.runtimeCounters() + " B=" + p.b.runtimeCounters());
            assertTrue(count(p.a, RuntimeCounter.INTERRUPT_WAKEUPS) + count(p.b, RuntimeCounter.INTERRUPT_WAKEUPS) > 0);
        }
    }

    /** Interrupts enabled by blocking threads or lock holders, or re-enabled by the interrupt thread. */
    static long enables(TcpPair p) {
        return count(p.a, RuntimeCounter.INTERRUPTS_ENABLED) + count(p.b, RuntimeCounter.INTERRUPTS_ENABLED)
                + count(p.a, RuntimeCounter.INTERRUPTS_REENABLED) + count(p.b, RuntimeCounter.INTERRUPTS_REENABLED);
    }

    /** Client on A sends 64 bytes, server on B echoes, {@code rounds} times, each side in its own thread. */
    static void pingPong(BlockingConnection[] c, int rounds) throws Exception {
        assertTimeoutPreemptively(Duration.ofSeconds(120), () -> {
            try (ExecutorService ex = Executors.newFixedThreadPool(2)) {
                Future<?> echo = ex.submit(() -> {
                    ByteBuffer buf = ByteBuffer.allocate(64);
                    for (int i = 0; i < rounds; i++) {
                        buf.clear();
                        if (!c[1].readFully(buf)) {
                            throw new AssertionError("EOF at round " + i);
                        }
                        buf.flip();
                        c[1].write(buf);
                    }
                    return null;
                });
                ByteBuffer out = ByteBuffer.allocate(64);
                ByteBuffer in = ByteBuffer.allocate(64);
                for (int i = 0; i < rounds; i++) {
                    out.clear();
                    out.putInt(0, i);
                    c[0].write(out);
                    in.clear();
                    assertTrue(c[0].readFully(in));
                    assertEquals(i, in.getInt(0));
                }
                try {
                    echo.get();
                } catch (ExecutionException e) {
                    throw e;
                }
            }
        });
    }
}
