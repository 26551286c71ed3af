package io.slipstream.bench;

import io.slipstream.config.Settings;
import io.slipstream.tcp.TcpConnectOptions;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.HashMap;
import java.util.Map;

/**
 * Bulk TCP throughput (docs/BENCHMARKS.md, "Bulk transfer"): one thread sends 64 KiB writes as
 * fast as it can for a fixed time, another reads, each on its own stack (two stacks over the
 * in-memory NIC in one JVM, busy-polling); then the same through the kernel's loopback with
 * JDK SocketChannels. Every 64 KiB block starts with its index, which the reader checks, so
 * data that is lost, duplicated or reordered stops the run. Usage: {@code BulkTransfer [seconds]}.
 */
public final class BulkTransfer {
    private static final int BLOCK = 64 * 1024;

    private BulkTransfer() {}

    /** The two ends of one connection, whatever carries it. */
    private interface Ends extends AutoCloseable {
        void write(ByteBuffer src) throws IOException;

        /** Reads into {@code dst}; -1 at end of stream. */
        int read(ByteBuffer dst) throws IOException;

        void closeWriter() throws IOException;
    }

    public static void main(String[] args) throws Exception {
        int seconds = args.length > 0 ? Integer.parseInt(args[0]) : 5;
        Map<String, String> settings = new HashMap<>(Settings.fromSystem().asMap());
        settings.putIfAbsent("slipstream.poll.usec", "-1");
        settings.putIfAbsent("slipstream.tcp.sndbuf", Integer.toString(4 << 20));
        settings.putIfAbsent("slipstream.tcp.rcvbuf", Integer.toString(4 << 20));
        double slipstream;
        try (TcpPair p = new TcpPair(settings)) {
            BlockingConnection[] c = p.connect(7002, TcpConnectOptions.DEFAULT);
            slipstream = run("Slipstream (in-memory NIC)", seconds, new Ends() {
                @Override
                public void write(ByteBuffer src) throws IOException {
                    c[0].write(src);
                }

                @Override
                public int read(ByteBuffer dst) throws IOException {
                    return c[1].read(dst);
                }

                @Override
                public void closeWriter() {
                    c[0].close();
                }

                @Override
                public void close() {
                    c[1].close();
                }
            });
        }
        double kernel;
        try (ServerSocketChannel listener = ServerSocketChannel.open()) {
            listener.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            SocketChannel writer = SocketChannel.open(listener.getLocalAddress());
            SocketChannel reader = listener.accept();
            kernel = run("kernel loopback", seconds, new Ends() {
                @Override
                public void write(ByteBuffer src) throws IOException {
                    while (src.hasRemaining()) {
                        writer.write(src);
                    }
                }

                @Override
                public int read(ByteBuffer dst) throws IOException {
                    return reader.read(dst);
                }

                @Override
                public void closeWriter() throws IOException {
                    writer.close();
                }

                @Override
                public void close() throws IOException {
                    reader.close();
                }
            });
        }
        System.out.printf("ratio Slipstream / kernel throughput: %.2f%n", slipstream / kernel);
    }

    /** Sends for {@code seconds}, reads everything on another thread; returns Gbit/s of payload. */
    private static double run(String what, int seconds, Ends ends) throws Exception {
        long[] received = new long[1];
        Throwable[] failure = new Throwable[1];
        Thread reader = Thread.ofPlatform().name("bulk-reader").start(() -> {
            // Reads whole blocks and checks each one's index: the sender writes whole blocks
            // only, so a short block at the end of the stream is an error too.
            ByteBuffer in = ByteBuffer.allocateDirect(BLOCK);
            long blocks = 0;
            try {
                while (true) {
                    int n = ends.read(in);
                    if (n < 0) {
                        if (in.position() != 0) {
                            throw new IllegalStateException("stream ended inside block " + blocks);
                        }
                        break;
                    }
                    if (!in.hasRemaining()) {
                        if (in.getLong(0) != blocks) {
                            throw new IllegalStateException("block " + blocks + " arrived as " + in.getLong(0));
                        }
                        blocks++;
                        in.clear();
                    }
                }
            } catch (Throwable t) {
                failure[0] = t;
            }
            received[0] = blocks * BLOCK;
        });
        ByteBuffer out = ByteBuffer.allocateDirect(BLOCK);
        long sent = 0;
        long start = System.nanoTime();
        long end = start + seconds * 1_000_000_000L;
        while (System.nanoTime() < end) {
            out.clear();
            out.putLong(0, sent / BLOCK);
            ends.write(out);
            sent += BLOCK;
        }
        ends.closeWriter();
        reader.join();
        long elapsed = System.nanoTime() - start;
        ends.close();
        if (failure[0] != null) {
            throw new IllegalStateException(what + ": " + failure[0], failure[0]);
        }
        if (received[0] != sent) {
            throw new IllegalStateException(what + ": sent " + sent + " bytes, received " + received[0]);
        }
        double gbits = sent * 8.0 / elapsed;
        System.out.printf("%-28s %.2f Gbit/s (%d MB in %.2f s)%n", what, gbits, sent >> 20, elapsed / 1e9);
        return gbits;
    }
}
