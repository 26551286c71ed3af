package io.slipstream.bench;

import io.slipstream.stack.RuntimeCounter;
import io.slipstream.tcp.TcpConnectOptions;
import io.slipstream.tcp.TcpListener;
import io.slipstream.stack.WaitQueue;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * Ping-pong benchmark of the stack runtime (docs/BENCHMARKS.md, "Stack runtime"): two stacks
 * over the in-memory NIC in one JVM, one thread per side busy-polling its own stack
 * ({@code slipstream.poll.usec=-1}), a 64-byte TCP message bounced back and forth. Every round
 * trip is timed; percentiles are computed from the sorted samples (no histogram buckets, so no
 * rounding). Usage: {@code RuntimePingPong [rounds] [warmup] [pollUsec]}.
 */
public final class RuntimePingPong {
    private static final int MESSAGE = 64;

    private RuntimePingPong() {}

    public static void main(String[] args) throws Exception {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 200_000;
        int warmup = args.length > 1 ? Integer.parseInt(args[1]) : 50_000;
        String pollUsec = args.length > 2 ? args[2] : "-1";
        TcpConnectOptions options = TcpConnectOptions.DEFAULT.withNoDelay(true);
        try (TcpPair p = new TcpPair(Map.of("slipstream.poll.usec", pollUsec))) {
            TcpListener[] l = new TcpListener[1];
            WaitQueue lq = BlockingConnection.listen(p.b, p.tcpB, 7001, 1, options, l);
            CompletableFuture<BlockingConnection> accepted = new CompletableFuture<>();
            Thread.ofPlatform().start(() -> {
                try {
                    accepted.complete(BlockingConnection.accept(p.b, l[0], lq));
                } catch (Exception e) {
                    accepted.completeExceptionally(e);
                }
            });
            BlockingConnection client = BlockingConnection.connect(p.a, p.tcpA, TcpPair.B_ADDRESS, 7001, options);
            BlockingConnection server = accepted.get();
            int total = warmup + rounds;
            Thread echo = Thread.ofPlatform().name("pong").start(() -> {
                ByteBuffer buf = ByteBuffer.allocateDirect(MESSAGE);
                try {
                    for (int i = 0; i < total; i++) {
                        buf.clear();
                        if (!server.readFully(buf)) {
                            return;
                        }
                        buf.flip();
                        server.write(buf);
                    }
                } catch (Exception e) {
                    e.printStackTrace();
                }
            });
            ByteBuffer out = ByteBuffer.allocateDirect(MESSAGE);
            ByteBuffer in = ByteBuffer.allocateDirect(MESSAGE);
            long[] rtt = new long[rounds];
            for (int i = 0; i < total; i++) {
                out.clear();
                out.putLong(0, i);
                in.clear();
                long start = System.nanoTime();
                client.write(out);
                if (!client.readFully(in)) {
                    throw new IllegalStateException("EOF at round " + i);
                }
                long t = System.nanoTime() - start;
                if (in.getLong(0) != i) {
                    throw new IllegalStateException("round " + i + " came back altered");
                }
                if (i >= warmup) {
                    rtt[i - warmup] = t;
                }
            }
            echo.join();
            Arrays.sort(rtt);
            System.out.printf("TCP ping-pong, %d bytes, %d round trips after %d warm-up, slipstream.poll.usec=%s%n",
                    MESSAGE, rounds, warmup, pollUsec);
            System.out.printf("RTT p50 %.2f µs, p90 %.2f µs, p99 %.2f µs, p99.9 %.2f µs, max %.2f µs%n",
                    pct(rtt, 0.50), pct(rtt, 0.90), pct(rtt, 0.99), pct(rtt, 0.999), rtt[rtt.length - 1] / 1e3);
            System.out.printf("interrupts enabled A/B: %d/%d, application polls A/B: %d/%d%n",
                    p.a.runtimeCounters().get(RuntimeCounter.INTERRUPTS_ENABLED),
                    p.b.runtimeCounters().get(RuntimeCounter.INTERRUPTS_ENABLED),
                    p.a.runtimeCounters().get(RuntimeCounter.APP_POLLS),
                    p.b.runtimeCounters().get(RuntimeCounter.APP_POLLS));
            client.close();
            server.close();
        }
    }

    private static double pct(long[] sorted, double q) {
        return sorted[Math.min(sorted.length - 1, (int) (sorted.length * q))] / 1e3;
    }
}
