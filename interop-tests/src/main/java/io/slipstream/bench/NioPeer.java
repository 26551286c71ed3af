package io.slipstream.bench;

import static io.slipstream.bench.ChannelIo.readFully;
import static io.slipstream.bench.ChannelIo.writeFully;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.Locale;

/**
 * One side of {@link XdpBench}'s TCP cases: a plain {@code java.nio} program, nothing of
 * Slipstream in it, so it runs unchanged on the kernel or, started through {@code bin/slipstream
 * run}, on Slipstream's provider. Roles:
 *
 * <ul>
 *   <li>{@code pingpong-server ADDRESS PORT blocking|spinning ROUNDS WARMUP TIMEOUT_S}: accepts
 *       one connection and echoes {@code WARMUP + ROUNDS} 64-byte messages.
 *   <li>{@code pingpong-client ADDRESS PORT blocking|spinning ROUNDS WARMUP TIMEOUT_S}: sends
 *       them, one at a time, timing each round trip after the warm-up.
 *   <li>{@code select-echo-server ADDRESS PORT ROUNDS WARMUP TIMEOUT_S}: the same echo, served
 *       by a selector-driven server ({@link SelectorEcho}); ADDRESS may be the wildcard 0.0.0.0.
 *   <li>{@code bulk-server ADDRESS PORT SECONDS TIMEOUT_S}: reads 64 KiB blocks to the end of the
 *       stream, checking each one's index, then writes back how many bytes it received.
 *   <li>{@code bulk-client ADDRESS PORT SECONDS TIMEOUT_S}: writes blocks for that long, shuts its
 *       output and waits for the count, which must be what it sent.
 * </ul>
 *
 * "spinning" puts the connection in non-blocking mode and retries reads and writes that move
 * nothing (how latency-sensitive programs wait); "blocking" is how most programs wait. The
 * server prints {@code listening} once it is bound and keeps its listener open while its
 * connection runs, as a server does. Each role ends with one line {@code result KIND
 * key=value...} for the orchestrator, with the heap its own thread allocated per round trip or
 * block after the warm-up (the warm-up rounds; the first fifth of the bulk time). A watchdog
 * ends the JVM after TIMEOUT_S, so a lost peer never leaves it running.
 */
public final class NioPeer {
    static final int BLOCK = 64 * 1024;
    private static final com.sun.management.ThreadMXBean THREADS =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

    private NioPeer() {}

    public static void main(String[] args) throws Exception {
        if (args.length < 4) {
            throw new IllegalArgumentException("usage: NioPeer ROLE ADDRESS PORT ...; see the class comment");
        }
        String role = args[0];
        InetSocketAddress address = new InetSocketAddress(InetAddress.getByName(args[1]), Integer.parseInt(args[2]));
        switch (role) {
            case "pingpong-server", "pingpong-client" -> {
                boolean spinning = mode(args[3]);
                int rounds = Integer.parseInt(args[4]);
                int warmup = Integer.parseInt(args[5]);
                watchdog(Long.parseLong(args[6]));
                if (role.equals("pingpong-server")) {
                    echo(address, spinning, rounds, warmup);
                } else {
                    ping(address, spinning, rounds, warmup);
                }
            }
            case "select-echo-server" -> {
                int rounds = Integer.parseInt(args[3]);
                watchdog(Long.parseLong(args[5]));
                printEchoResult(SelectorEcho.serve(address, rounds, Integer.parseInt(args[4])));
            }
            case "bulk-server" -> {
                watchdog(Long.parseLong(args[4]));
                sink(address, Integer.parseInt(args[3]));
            }
            case "bulk-client" -> {
                watchdog(Long.parseLong(args[4]));
                send(address, Integer.parseInt(args[3]));
            }
            default -> throw new IllegalArgumentException("unknown role " + role);
        }
    }

    private static boolean mode(String mode) {
        return switch (mode) {
            case "spinning" -> true;
            case "blocking" -> false;
            default -> throw new IllegalArgumentException("mode must be blocking or spinning, got " + mode);
        };
    }

    /** Ends the JVM (status 3) after {@code seconds}, whatever the program is waiting for. */
    static void watchdog(long seconds) {
        Thread.ofPlatform().daemon().name("watchdog").start(() -> {
            try {
                Thread.sleep(seconds * 1000);
            } catch (InterruptedException e) {
                return;
            }
            System.err.println("NioPeer: no end after " + seconds + " s; giving up");
            Runtime.getRuntime().halt(3);
        });
    }

    private static ServerSocketChannel listen(InetSocketAddress address) throws IOException {
        ServerSocketChannel listener = ServerSocketChannel.open();
        listener.bind(address);
        System.out.println("listening");
        return listener;
    }

    private static void echo(InetSocketAddress address, boolean spinning, int rounds, int warmup) throws IOException {
        try (ServerSocketChannel listener = listen(address); SocketChannel c = listener.accept()) {
            c.setOption(StandardSocketOptions.TCP_NODELAY, true);
            c.configureBlocking(!spinning);
            printEchoResult(ChannelPingPong.echo(c, rounds, warmup));
        }
    }

    private static void printEchoResult(double allocatedBytesPerRound) {
        System.out.printf(Locale.ROOT, "result echo alloc_b_per_rt=%.2f%n", allocatedBytesPerRound);
    }

    private static void ping(InetSocketAddress address, boolean spinning, int rounds, int warmup) throws IOException {
        try (SocketChannel c = SocketChannel.open()) {
            c.setOption(StandardSocketOptions.TCP_NODELAY, true);
            c.connect(address);
            c.configureBlocking(!spinning);
            ChannelPingPong.Pings p = ChannelPingPong.ping(c, rounds, warmup);
            long[] rttNs = p.sortedRttNs();
            System.out.printf(Locale.ROOT, "result pingpong rounds=%d p50_us=%.2f p90_us=%.2f p99_us=%.2f p999_us=%.2f"
                    + " max_us=%.2f alloc_b_per_rt=%.2f%n", rounds, Percentiles.pct(rttNs, 0.50),
                    Percentiles.pct(rttNs, 0.90), Percentiles.pct(rttNs, 0.99), Percentiles.pct(rttNs, 0.999),
                    rttNs[rounds - 1] / 1e3, p.allocatedBytesPerRound());
        }
    }

    private static void sink(InetSocketAddress address, int seconds) throws IOException {
        try (ServerSocketChannel listener = listen(address); SocketChannel c = listener.accept()) {
            ByteBuffer in = ByteBuffer.allocateDirect(BLOCK);
            long blocks = 0;
            long warmupEndNs = 0;
            long warmupBlocks = -1;
            long allocatedBytes = 0;
            // Whole blocks only: the writer never writes a partial one, so a short tail is an error.
            for (int n = c.read(in); n >= 0; n = c.read(in)) {
                if (warmupEndNs == 0) {
                    warmupEndNs = System.nanoTime() + warmupNs(seconds); // from the first bytes on
                } else if (warmupBlocks < 0 && System.nanoTime() - warmupEndNs >= 0) {
                    warmupBlocks = blocks;
                    allocatedBytes = -THREADS.getCurrentThreadAllocatedBytes();
                }
                if (!in.hasRemaining()) {
                    if (in.getLong(0) != blocks) {
                        throw new IllegalStateException("block " + blocks + " arrived as " + in.getLong(0));
                    }
                    blocks++;
                    in.clear();
                }
            }
            allocatedBytes += warmupBlocks < 0 ? 0 : THREADS.getCurrentThreadAllocatedBytes();
            if (in.position() != 0) {
                throw new IllegalStateException("stream ended inside block " + blocks);
            }
            ByteBuffer count = ByteBuffer.allocate(Long.BYTES).putLong(0, blocks * BLOCK);
            writeFully(c, count);
            System.out.printf(Locale.ROOT, "result sink blocks=%d alloc_b_per_block=%.2f%n", blocks,
                    allocatedBytes / (double) Math.max(1, blocks - warmupBlocks));
        }
    }

    private static void send(InetSocketAddress address, int seconds) throws IOException {
        try (SocketChannel c = SocketChannel.open(address)) {
            ByteBuffer out = ByteBuffer.allocateDirect(BLOCK);
            long sentBytes = 0;
            long warmupBytes = -1;
            long allocatedBytes = 0;
            long start = System.nanoTime();
            long warmupEndNs = start + warmupNs(seconds);
            long end = start + seconds * 1_000_000_000L;
            while (System.nanoTime() - end < 0) {
                if (warmupBytes < 0 && System.nanoTime() - warmupEndNs >= 0) {
                    warmupBytes = sentBytes;
                    allocatedBytes = -THREADS.getCurrentThreadAllocatedBytes();
                }
                out.clear().putLong(0, sentBytes / BLOCK);
                writeFully(c, out);
                sentBytes += BLOCK;
            }
            allocatedBytes += warmupBytes < 0 ? 0 : THREADS.getCurrentThreadAllocatedBytes();
            c.shutdownOutput();
            // Throughput counts until the reader has had everything: its count comes back.
            ByteBuffer count = ByteBuffer.allocate(Long.BYTES);
            readFully(c, count);
            long elapsedNs = System.nanoTime() - start;
            if (count.getLong(0) != sentBytes) {
                throw new IllegalStateException("sent " + sentBytes + " bytes, the reader received " + count.getLong(0));
            }
            System.out.printf(Locale.ROOT, "result bulk gbit_per_s=%.3f mbytes=%d seconds=%.2f alloc_b_per_block=%.2f%n",
                    sentBytes * 8.0 / elapsedNs, sentBytes >> 20, elapsedNs / 1e9,
                    allocatedBytes / (double) Math.max(1, (sentBytes - warmupBytes) / BLOCK));
        }
    }

    /** The bulk warm-up: the first fifth of the time, left out of the allocation figure. */
    private static long warmupNs(int seconds) {
        return seconds * 200_000_000L;
    }
}
