package io.slipstream.tcp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.slipstream.buffer.BufferPool;
import io.slipstream.testing.DirectTcpLink;
import io.slipstream.time.Timers;
import io.slipstream.time.VirtualClock;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.management.ManagementFactory;
import org.junit.jupiter.api.Test;

/**
 * The steady-state data path (send, segments out, segments in, ACKs, receive) allocates
 * nothing on the heap once compiled: two layers joined by a link that hands buffers over through
 * preallocated arrays, measured with the JVM's per-thread allocation counter.
 */
class TcpAllocationTest {
    private static final int A = 0xC6120001;
    private static final int B = 0xC6120002;

    @Test
    void steadyStateDataPathAllocatesNothing() {
        String track = System.getProperty(BufferPool.TRACK_LEAKS_PROPERTY);
        System.setProperty(BufferPool.TRACK_LEAKS_PROPERTY, "false"); // leak tracking records stack traces
        BufferPool pool;
        try {
            pool = BufferPool.allocate(512, BufferPool.DEFAULT_FRAME_SIZE);
        } finally {
            if (track != null) {
                System.setProperty(BufferPool.TRACK_LEAKS_PROPERTY, track);
            }
        }
        VirtualClock clock = new VirtualClock();
        DirectTcpLink link = new DirectTcpLink(pool, A, B);
        TcpConfig cfg = TcpFixtures.config("quickack.segments", "0");
        Timers ta = new Timers(clock);
        Timers tb = new Timers(clock);
        link.a = new TcpLayer(link.output(A), ta, clock, cfg, new byte[48]);
        byte[] secretB = new byte[48];
        secretB[0] = 1;
        link.b = new TcpLayer(link.output(B), tb, clock, cfg, secretB);
        TcpListener l = link.b.listen(80, 4);
        TcpConnection client = link.a.connect(B, 80);
        link.pump();
        TcpConnection server = l.accept();
        assertNotNull(server);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(8192);
            MemorySegment in = arena.allocate(8192);
            long moved = 0;
            com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
            // Warm up, then measure windows of rounds until one allocates nothing. The JIT may
            // still be compiling (and briefly interpreting) during the first windows on a busy
            // machine; steady state means some window, once compiled, allocates zero bytes.
            long fewest = Long.MAX_VALUE;
            for (int window = -1; window < 10 && fewest != 0; window++) {
                long before = mx.getCurrentThreadAllocatedBytes();
                for (int i = 0; i < 20_000; i++) {
                    client.send(out, 0, 1448 * 3);
                    link.pump();
                    int n;
                    while ((n = server.receive(in, 0, 8192)) > 0) {
                        moved += n;
                    }
                    clock.advance(1_000_000L); // delayed ACKs and RTO bookkeeping run too
                    ta.expire();
                    tb.expire();
                    link.pump();
                }
                if (window >= 0) {
                    fewest = Math.min(fewest, mx.getCurrentThreadAllocatedBytes() - before);
                }
            }
            assertTrue(moved > 100_000_000L, "data moved: " + moved);
            assertEquals(0, fewest, "bytes allocated in the best window of 20,000 steady-state rounds");
        }
        assertEquals(0, link.a.counters().get(TcpCounter.DROP_INTERNAL_ERROR)
                + link.b.counters().get(TcpCounter.DROP_INTERNAL_ERROR));
        link.a.close();
        link.b.close();
        pool.close();
    }
}
