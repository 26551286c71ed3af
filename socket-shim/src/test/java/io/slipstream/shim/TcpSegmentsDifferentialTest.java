package io.slipstream.shim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.slipstream.config.Settings;
import io.slipstream.config.StackConfig;
import io.slipstream.linux.Libc;
import io.slipstream.linux.Sockets;
import io.slipstream.shim.kernel.KernelFd;
import io.slipstream.tcp.TcpConnection;
import io.slipstream.tcp.TcpCounter;
import io.slipstream.tcp.TcpLayer;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.channels.spi.SelectorProvider;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Segments on the wire for java.nio exchanges, the same program on the kernel and accelerated,
 * compared: on the kernel (loopback, through Slipstream's kernel fallback sockets) each side's
 * segments are read with TCP_INFO ({@code tcpi_segs_out}, {@code tcpi_data_segs_out}); on two
 * in-memory stacks of this class's own, from each stack's TCP counters.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class TcpSegmentsDifferentialTest {
    private static final String LINK = "segdiff";
    private static final StackConfig A = Env.config(LINK, "198.18.13.1/24");
    private static final StackConfig B = Env.config(LINK, "198.18.13.2/24");
    private static final SlipstreamSelectorProvider OWN_STACKS = new SlipstreamSelectorProvider(Settings.of(Map.of()),
            List.of(A, B));

    /** Where the exchange runs, and how it counts what a socket has sent. */
    enum Where {
        KERNEL, ACCELERATED;

        SelectorProvider provider() {
            return this == KERNEL ? Env.slipstreamProvider() : OWN_STACKS;
        }

        InetSocketAddress serverAddress() {
            return new InetSocketAddress(this == KERNEL ? "127.0.0.1" : "198.18.13.2", 0);
        }

        /** What {@code ch} has sent so far, and its MSS and congestion window. */
        Sent sent(SocketChannel ch, boolean server) throws IOException {
            return this == KERNEL ? TcpInfo.of(ch) : StackCount.of(ch, server ? B : A);
        }
    }

    /** Segments a socket sent, with and without data, its send MSS and congestion window (segments). */
    private record Sent(long segments, long dataSegments, long mss, long cwndSegments) {}

    static Stream<Where> wheres() {
        return Stream.of(Where.values());
    }

    /** TCP_INFO of a kernel socket: tcpi_segs_out, tcpi_data_segs_out, tcpi_snd_mss, tcpi_snd_cwnd. */
    private static final class TcpInfo {
        private static final int TCP_INFO = 11;

        static Sent of(SocketChannel ch) throws IOException {
            KernelFd fd = ((ShimChannel) ch).kernelFd();
            assertTrue(fd != null, "a kernel socket");
            try (Arena arena = Arena.ofConfined()) {
                Libc libc = new Libc(arena);
                MemorySegment info = arena.allocate(256, 8);
                MemorySegment length = arena.allocate(ValueLayout.JAVA_INT);
                length.set(ValueLayout.JAVA_INT, 0, 256);
                if (new Sockets(libc).getSockOpt(fd.fd(), Sockets.IPPROTO_TCP, TCP_INFO, info, length) < 0) {
                    throw new IOException(libc.failure("getsockopt(TCP_INFO)"));
                }
                return new Sent(info.get(ValueLayout.JAVA_INT, 136), info.get(ValueLayout.JAVA_INT, 156),
                        info.get(ValueLayout.JAVA_INT, 16), info.get(ValueLayout.JAVA_INT, 80));
            }
        }
    }

    /** What a stack's TCP layer has sent; each exchange of this class has its stacks to itself. */
    private static final class StackCount {
        static Sent of(SocketChannel ch, StackConfig config) throws IOException {
            ShimStacks.Opened opened = ShimStacks.get(config);
            int port = ((InetSocketAddress) ch.getLocalAddress()).getPort();
            opened.stack().enter();
            try {
                TcpLayer tcp = opened.tcp();
                TcpConnection c = tcp.connections().stream().filter(x -> x.localPort() == port).findFirst().orElseThrow();
                return new Sent(tcp.counters().get(TcpCounter.SEGMENTS_SENT),
                        tcp.counters().get(TcpCounter.DATA_SEGMENTS_SENT), c.mss(), c.congestionWindow() / c.mss());
            } finally {
                opened.stack().exit();
            }
        }
    }

    /** A listener, a connected client and the accepted end, all blocking. */
    private record Pair(ServerSocketChannel listener, SocketChannel client, SocketChannel server) implements AutoCloseable {
        static Pair open(Where where) throws IOException {
            ServerSocketChannel listener = where.provider().openServerSocketChannel().bind(where.serverAddress());
            SocketChannel client = where.provider().openSocketChannel();
            client.setOption(StandardSocketOptions.TCP_NODELAY, true);
            assertTrue(client.connect(listener.getLocalAddress()));
            SocketChannel server = listener.accept();
            server.setOption(StandardSocketOptions.TCP_NODELAY, true);
            return new Pair(listener, client, server);
        }

        /** Reads exactly {@code n} bytes on {@code ch}. */
        static void readFully(SocketChannel ch, int n) throws IOException {
            ByteBuffer b = ByteBuffer.allocate(n);
            while (b.hasRemaining()) {
                assertTrue(ch.read(b) >= 0, "no end of stream");
            }
        }

        @Override
        public void close() throws IOException {
            client.close();
            server.close();
            listener.close();
        }
    }

    private static ByteBuffer[] parts(int... sizes) {
        ByteBuffer[] b = new ByteBuffer[sizes.length];
        for (int i = 0; i < sizes.length; i++) {
            b[i] = ByteBuffer.allocate(sizes[i]);
        }
        return b;
    }

    /**
     * A gathering write (headers and body, as Jetty writes a response) under TCP_NODELAY leaves
     * in full-sized segments, ceil(bytes / MSS) of them, on the kernel (one writev) and
     * accelerated alike (RFC 9293 §3.8.6.2.1: the sender sends full segments when it can).
     */
    @ParameterizedTest
    @MethodSource("wheres")
    void rfc9293_gatheringWriteGoesOutInFullSegments(Where where) throws Exception {
        try (Pair p = Pair.open(where)) {
            for (int[] sizes : new int[][] {{250, 1000}, {250, 4000}, {100, 0, 20, 30}}) {
                int total = java.util.Arrays.stream(sizes).sum();
                Sent before = where.sent(p.client(), false);
                assertEquals(total, p.client().write(parts(sizes)));
                Pair.readFully(p.server(), total);
                Sent after = where.sent(p.client(), false);
                long mss = after.mss();
                assertEquals((total + mss - 1) / mss, after.dataSegments() - before.dataSegments(),
                        where + ": data segments for " + java.util.Arrays.toString(sizes) + " with MSS " + mss);
            }
        }
    }

    /**
     * RFC 6928: a connection starts with a congestion window of ten segments (at the usual MSS),
     * the kernel's and the stack's alike.
     */
    @ParameterizedTest
    @MethodSource("wheres")
    void rfc6928_initialWindowTenSegments(Where where) throws Exception {
        try (Pair p = Pair.open(where)) {
            assertEquals(10, where.sent(p.client(), false).cwndSegments(), where + ": client");
            assertEquals(10, where.sent(p.server(), true).cwndSegments(), where + ": server");
        }
    }

    /**
     * Delayed ACKs (RFC 1122 §4.2.3.2, RFC 5681 §4.2): 200 request/response exchanges, the
     * server answering from a worker thread as Jetty does. Once the exchange is interactive, a
     * request's ACK rides on its response and a response's on the next request, so each side
     * sends a pure ACK or two in the quick-ACK start and then almost none; on the kernel and
     * accelerated alike. This runs in real time, so a side may send a few more (an answer
     * delayed beyond the 40 ms timeout by the machine's load costs a pure ACK or two); the
     * bound is far below the one pure ACK per request of the first sixteen that a quick-ACK
     * start without an interactive mode sends whatever the timing.
     */
    @ParameterizedTest
    @MethodSource("wheres")
    void rfc1122_delayedAckLetsTheResponseCarryTheAck(Where where) throws Exception {
        int exchanges = 200;
        int request = 300;
        int[] response = {250, 1750};
        try (Pair p = Pair.open(where); java.util.concurrent.ExecutorService worker =
                java.util.concurrent.Executors.newSingleThreadExecutor()) {
            Sent client0 = where.sent(p.client(), false);
            Sent server0 = where.sent(p.server(), true);
            java.util.concurrent.Future<?> server = java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor()
                    .submit(() -> {
                        for (int i = 0; i < exchanges; i++) {
                            Pair.readFully(p.server(), request);
                            worker.submit(() -> p.server().write(parts(response))).get();
                        }
                        return null;
                    });
            for (int i = 0; i < exchanges; i++) {
                assertEquals(request, p.client().write(ByteBuffer.allocate(request)));
                Pair.readFully(p.client(), response[0] + response[1]);
            }
            server.get(30, TimeUnit.SECONDS);
            Sent client = where.sent(p.client(), false);
            Sent serverSent = where.sent(p.server(), true);
            long serverData = serverSent.dataSegments() - server0.dataSegments();
            long serverAcks = serverSent.segments() - server0.segments() - serverData;
            long clientData = client.dataSegments() - client0.dataSegments();
            long clientAcks = client.segments() - client0.segments() - clientData;
            long perResponse = (response[0] + response[1] + serverSent.mss() - 1) / serverSent.mss();
            assertEquals(exchanges * perResponse, serverData, where + ": each response in full segments");
            assertEquals(exchanges, clientData, where + ": each request in one segment");
            assertTrue(serverAcks <= 8, where + ": the server's pure ACKs: " + serverAcks);
            assertTrue(clientAcks <= 8, where + ": the client's pure ACKs: " + clientAcks);
        }
    }
}
