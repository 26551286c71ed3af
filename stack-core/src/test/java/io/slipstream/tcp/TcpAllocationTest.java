package io.slipstream.tcp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.slipstream.buffer.BufferOwner;
import io.slipstream.buffer.BufferPool;
import io.slipstream.buffer.PacketBuffer;
import io.slipstream.ip.Ipv4Output;
import io.slipstream.time.Timers;
import io.slipstream.time.VirtualClock;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.management.ManagementFactory;
import org.junit.jupiter.api.Test;

/**
 * The steady-state data path (send, segments out, segments in, ACKs, receive) allocates
 * nothing on the heap: two layers joined by a link that hands buffers over through
 * preallocated arrays, measured with the JVM's per-thread allocation counter.
 */
class TcpAllocationTest {
    private static final int A = 0xC6120001;
    private static final int B = 0xC6120002;

    /** A zero-allocation link: a fixed ring of (buffer, source, destination). */
    private static final class DirectLink {
        final BufferPool pool;
        final BufferOwner wire = new BufferOwner("wire");
        final PacketBuffer[] ring = new PacketBuffer[4096];
        final int[] src = new int[4096];
        final int[] dst = new int[4096];
        int head;
        int tail;
        TcpLayer a;
        TcpLayer b;

        DirectLink(BufferPool pool) {
            this.pool = pool;
        }

        Ipv4Output output(int self) {
            return new Ipv4Output() {
                @Override
                public PacketBuffer allocate(BufferOwner owner, int transportLength) {
                    PacketBuffer p = pool.acquire(owner);
                    if (p != null) {
                        p.setRange(HEADROOM, 0);
                    }
                    return p;
                }

                @Override
                public int sourceAddress(int destination) {
                    return self;
                }

                @Override
                public int mtu(int destination) {
                    return 1500;
                }

                @Override
                public boolean routable(int destination) {
                    return true;
                }

                @Override
                public void send(PacketBuffer d, BufferOwner from, int s, int t, int protocol, int tos, boolean df) {
                    d.transfer(from, wire);
                    ring[tail & 4095] = d;
                    src[tail & 4095] = s;
                    dst[tail & 4095] = t;
                    tail++;
                }
            };
        }

        void pump() {
            while (head != tail) {
                PacketBuffer p = ring[head & 4095];
                int s = src[head & 4095];
                int t = dst[head & 4095];
                ring[head & 4095] = null;
                head++;
                TcpLayer to = t == A ? a : b;
                if (!to.receive(p, wire, s, t, 0)) {
                    p.release(wire);
                }
            }
        }
    }

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
        DirectLink link = new DirectLink(pool);
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
            long before = 0;
            for (int round = 0; round < 2; round++) {
                if (round == 1) {
                    before = mx.getCurrentThreadAllocatedBytes();
                }
                for (int i = 0; i < 50_000; i++) {
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
            }
            long allocated = mx.getCurrentThreadAllocatedBytes() - before;
            assertTrue(moved > 100_000_000L, "data moved: " + moved);
            assertEquals(0, allocated, "bytes allocated for 50,000 steady-state rounds");
        }
        assertEquals(0, link.a.counters().dropInternalError + link.b.counters().dropInternalError);
        pool.close();
    }
}
