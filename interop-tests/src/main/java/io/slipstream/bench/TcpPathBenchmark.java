package io.slipstream.bench;

import io.slipstream.buffer.BufferOwner;
import io.slipstream.buffer.BufferPool;
import io.slipstream.buffer.PacketBuffer;
import io.slipstream.config.Settings;
import io.slipstream.ip.Ipv4Output;
import io.slipstream.ip.ReceiveVerdict;
import io.slipstream.tcp.TcpConfig;
import io.slipstream.tcp.TcpConnection;
import io.slipstream.tcp.TcpLayer;
import io.slipstream.tcp.TcpListener;
import io.slipstream.testing.DirectTcpLink;
import io.slipstream.time.Timers;
import io.slipstream.time.VirtualClock;
import io.slipstream.wire.Ipv4Address;
import io.slipstream.wire.Tcp;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The TCP engine's established-state paths, one full-sized segment (1448 bytes) per
 * operation, with no IP or NIC around them:
 *
 * <ul>
 *   <li>{@code receiveSegment}: an in-order data segment arrives (copied into a fresh buffer
 *       from a captured one, its sequence number patched), is validated, queued and read by
 *       the application; every second segment sends an ACK (delayed-ACK rule).
 *   <li>{@code sendSegment}: the application writes 1448 bytes, TCP builds and sends the
 *       segment; every second write an ACK for everything sent arrives (as the peer's delayed
 *       ACK would) and frees the send buffer.
 * </ul>
 *
 * The clock never moves, so no timer fires inside the measurement.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
public class TcpPathBenchmark {
    static final int MSS = 1448;
    static final int A = Ipv4Address.parse("198.18.0.1");
    static final int B = Ipv4Address.parse("198.18.0.2");

    /** An established connection from A (client) to B (server) over a direct link. */
    @State(Scope.Thread)
    public static class Connection {
        final Arena arena = Arena.ofConfined();
        final MemorySegment data = arena.allocate(64 * 1024);
        final VirtualClock clock = new VirtualClock();
        BufferPool pool;
        DirectTcpLink link;
        TcpConnection client;
        TcpConnection server;
        final BufferOwner injector = new BufferOwner("benchmark");

        @Setup(Level.Trial)
        public void connect() {
            pool = BufferPool.allocate(1024, BufferPool.DEFAULT_FRAME_SIZE);
            link = new DirectTcpLink(pool, A, B);
            // No quick-ACK phase: the measured steady state is one ACK per two segments.
            TcpConfig config = TcpConfig.from(Settings.of(Map.of("slipstream.tcp.quickack.segments", "0")));
            link.a = new TcpLayer(link.output(A), new Timers(clock), clock, config, new byte[48]);
            byte[] secret = new byte[48];
            secret[0] = 1;
            link.b = new TcpLayer(link.output(B), new Timers(clock), clock, config, secret);
            TcpListener listener = link.b.listen(5001, 4);
            client = link.a.connect(B, 5001);
            link.pump();
            server = listener.accept();
            if (server == null) {
                throw new IllegalStateException("handshake did not complete");
            }
        }

        /** The next segment on the link, copied out, and the link emptied. */
        MemorySegment capture() {
            PacketBuffer p = link.take();
            MemorySegment copy = arena.allocate(p.length());
            MemorySegment.copy(p.segment(), p.offset(), copy, 0, p.length());
            p.release(link.owner());
            discardPending();
            return copy;
        }

        /** Discards what is on the link; returns how many segments that was. */
        int discardPending() {
            int n = 0;
            PacketBuffer p;
            while ((p = link.take()) != null) {
                p.release(link.owner());
                n++;
            }
            return n;
        }

        /** Hands a copy of {@code segment} to {@code layer} as if it came from {@code source}. */
        void inject(TcpLayer layer, MemorySegment segment, int source, int destination, long at, int value,
                    boolean sequence) {
            PacketBuffer b = pool.acquire(injector);
            long off = Ipv4Output.HEADROOM;
            MemorySegment.copy(segment, 0, b.segment(), off, segment.byteSize());
            if (sequence) {
                Tcp.setSequence(b.segment(), off, value);
            } else {
                Tcp.setAcknowledgment(b.segment(), off, value);
            }
            b.setRange((int) off, (int) segment.byteSize());
            if (layer.receive(b, injector, source, destination, 0) != ReceiveVerdict.KEPT) {
                b.release(injector);
            }
        }

        @TearDown(Level.Trial)
        public void close() {
            discardPending();
            link.a.close();
            link.b.close();
            arena.close();
        }
    }

    /** The receiver side: data segments from A are replayed into B. */
    @State(Scope.Thread)
    public static class Receiver extends Connection {
        MemorySegment dataSegment;
        int nextSeq;
        long operations;
        long bytesRead;

        /** A fast benchmark that dropped its segments would measure nothing: check every byte came through. */
        @TearDown(Level.Iteration)
        public void verify() {
            if (bytesRead != operations * MSS) {
                throw new IllegalStateException("receive path lost data: " + bytesRead + " bytes read in "
                        + operations + " segments; " + link.b.counters());
            }
        }

        @Setup(Level.Trial)
        public void captureDataSegment() {
            client.send(data, 0, MSS);
            dataSegment = capture(); // B never saw it: its sequence number is B's RCV.NXT
            nextSeq = Tcp.sequence(dataSegment, 0);
        }
    }

    /** The sender side: B's ACKs are replayed into A. */
    @State(Scope.Thread)
    public static class Sender extends Connection {
        MemorySegment ackSegment;
        int acked;
        int writes;
        long bytesWritten;
        long segmentsSent;

        /** Every write must be accepted and leave as one segment. */
        @TearDown(Level.Iteration)
        public void verify() {
            if (bytesWritten != (long) writes * MSS || Math.abs(segmentsSent - writes) > 2) {
                throw new IllegalStateException("send path stalled: " + writes + " writes, " + bytesWritten
                        + " bytes accepted, " + segmentsSent + " segments sent; " + link.a.counters());
            }
        }

        @Setup(Level.Trial)
        public void captureAck() {
            client.send(data, 0, 2 * MSS);
            PacketBuffer p;
            // Deliver the two segments to B; B's ACK for both stays on the link.
            int segments = link.pending();
            for (int i = 0; i < segments; i++) {
                p = link.take();
                if (link.b.receive(p, link.owner(), A, B, 0) != ReceiveVerdict.KEPT) {
                    p.release(link.owner());
                }
            }
            ackSegment = capture();
            acked = Tcp.acknowledgment(ackSegment, 0);
            inject(link.a, ackSegment, B, A, 0, acked, false);
            discardPending();
        }
    }

    @Benchmark
    public int receiveSegment(Receiver r) {
        r.inject(r.link.b, r.dataSegment, A, B, 0, r.nextSeq, true);
        r.nextSeq += MSS;
        int n = r.server.receive(r.data, 0, MSS);
        r.discardPending(); // the ACK B sent (every second segment)
        r.operations++;
        r.bytesRead += n;
        return n;
    }

    @Benchmark
    public int sendSegment(Sender s) {
        int n = s.client.send(s.data, 0, MSS);
        s.bytesWritten += n;
        s.segmentsSent += s.discardPending(); // the segment A sent
        if ((++s.writes & 1) == 0) {
            s.acked += 2 * MSS;
            s.inject(s.link.a, s.ackSegment, B, A, 0, s.acked, false);
            s.discardPending();
        }
        return n;
    }
}
