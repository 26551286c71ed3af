package io.slipstream.shim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.slipstream.buffer.BufferPool;
import io.slipstream.config.Settings;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Pipe;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A selector-driven echo, as a plain NIO server is written, allocates no more heap per round
 * trip on Slipstream's provider than on the JDK's: what remains on both is the selected-key
 * set's entry (a HashSet node, as the JDK's selector adds) and the application's own iterator.
 * Measured the same way on both, in one thread (client and server), with a pipe in the same
 * selector so that on Slipstream it is a mixed selector (stack keys and kernel keys).
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class SelectorAllocationDifferentialTest {
    private static final com.sun.management.ThreadMXBean THREADS =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    private static final int ROUNDS_PER_WINDOW = 20_000;
    private static final int WINDOWS = 8;
    /**
     * What compiled code may leave either way: escape analysis removes the application's
     * iterator in some runs and not in others, and the FFM downcall of the mixed selector's
     * zero-timeout epoll_wait slices its call-state segment (JDK code, up to 40 B a call).
     */
    private static final double SLACK_BYTES = 80;
    private static final String LINK = "selalloc";

    @Test
    void aSelectorDrivenEchoAllocatesNoMorePerRoundTripThanOnTheJdk() throws Exception {
        double jdk = bytesPerRound(Env.jdk());
        // Stacks of this test's own, opened without the test build's buffer leak tracking (which
        // records an owner per buffer hand-over, on the heap): as a program's stacks run.
        String tracking = System.clearProperty(BufferPool.TRACK_LEAKS_PROPERTY);
        double slipstream;
        try {
            SlipstreamSelectorProvider untracked = new SlipstreamSelectorProvider(Settings.of(Map.of()),
                    List.of(Env.config(LINK, Env.A_CIDR), Env.config(LINK, Env.B_CIDR)));
            slipstream = bytesPerRound(new Env("slipstream-untracked", untracked, Env.address("198.18.7.2"),
                    Env.address("198.18.7.2"), Env.address("198.18.7.1")));
        } finally {
            if (tracking != null) {
                System.setProperty(BufferPool.TRACK_LEAKS_PROPERTY, tracking);
            }
        }
        assertTrue(slipstream <= jdk + SLACK_BYTES,
                "Slipstream " + slipstream + " B per round trip, the JDK " + jdk + " B");
    }

    private static double bytesPerRound(Env env) throws IOException {
        try (Selector selector = env.provider().openSelector();
                ServerSocketChannel listener = env.provider().openServerSocketChannel()) {
            listener.bind(new InetSocketAddress(env.tcpHost(), 0));
            Pipe pipe = env.provider().openPipe();
            pipe.source().configureBlocking(false);
            pipe.source().register(selector, SelectionKey.OP_READ); // never readable: a kernel key beside
            try (SocketChannel client = env.provider().openSocketChannel();
                    Pipe.SinkChannel sink = pipe.sink();
                    Pipe.SourceChannel source = pipe.source()) {
                client.connect(listener.getLocalAddress());
                SocketChannel server = listener.accept();
                server.configureBlocking(false);
                client.configureBlocking(false);
                server.register(selector, SelectionKey.OP_READ);
                Echo echo = new Echo(selector, server, client);
                long fewest = Long.MAX_VALUE;
                for (int w = -1; w < WINDOWS; w++) {
                    long before = THREADS.getCurrentThreadAllocatedBytes();
                    for (int i = 0; i < ROUNDS_PER_WINDOW; i++) {
                        echo.round(i);
                    }
                    long allocated = THREADS.getCurrentThreadAllocatedBytes() - before;
                    if (w >= 0) { // the first window warms up
                        fewest = Math.min(fewest, allocated);
                    }
                }
                server.close();
                return fewest / (double) ROUNDS_PER_WINDOW;
            }
        }
    }

    /** One round trip: the client sends 64 bytes, the selector loop echoes them, the client reads them back. */
    private static final class Echo {
        private final Selector selector;
        private final SocketChannel server;
        private final SocketChannel client;
        private final ByteBuffer out = ByteBuffer.allocateDirect(64);
        private final ByteBuffer echo = ByteBuffer.allocateDirect(64);
        private final ByteBuffer in = ByteBuffer.allocateDirect(64);

        Echo(Selector selector, SocketChannel server, SocketChannel client) {
            this.selector = selector;
            this.server = server;
            this.client = client;
        }

        void round(int i) throws IOException {
            out.clear().putInt(0, i);
            assertEquals(64, client.write(out));
            while (echo.position() < 64) {
                selector.select();
                for (Iterator<SelectionKey> keys = selector.selectedKeys().iterator(); keys.hasNext(); ) {
                    SelectionKey key = keys.next();
                    keys.remove();
                    if (key.channel() == server && key.isReadable()) {
                        server.read(echo);
                    }
                }
            }
            echo.flip();
            while (echo.hasRemaining()) {
                server.write(echo);
            }
            echo.clear();
            in.clear();
            while (in.hasRemaining()) {
                client.read(in);
            }
            assertEquals(i, in.getInt(0), "the echo carries the round's number");
        }
    }
}
