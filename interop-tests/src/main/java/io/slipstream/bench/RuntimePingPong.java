package io.slipstream.bench;

import static io.slipstream.bench.Percentiles.pct;
import static io.slipstream.bench.Percentiles.print;

import io.slipstream.config.Settings;
import io.slipstream.stack.RuntimeCounter;
import io.slipstream.stack.Stack;
import io.slipstream.tcp.TcpConnectOptions;
import io.slipstream.tcp.TcpConnection;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

/**
 * Ping-pong benchmark of the stack runtime (docs/BENCHMARKS.md, "Stack runtime"): two stacks
 * over the in-memory NIC in one JVM, one thread per side busy-polling its own stack
 * ({@code slipstream.poll.usec=-1}), a 64-byte TCP message bounced back and forth. Every round
 * trip is timed; percentiles are computed from the sorted samples (no histogram buckets, so no
 * rounding). The same run then measures the kernel's TCP over loopback with the same shape, and
 * prints the ratio. Usage: {@code RuntimePingPong [--one-thread] [rounds] [warmup] [pollUsec]};
 * {@code --one-thread} instead has one thread drive both stacks through the same exchange (no
 * hand-off between cores: what the stacks' own work costs). It runs in a JVM of its own, so
 * neither shape's compiled code is tuned to the other's.
 */
public final class RuntimePingPong {
    private static final int MESSAGE = 64;
    private static final com.sun.management.ThreadMXBean THREADS =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

    private RuntimePingPong() {}

    public static void main(String[] args) throws Exception {
        boolean oneThread = args.length > 0 && args[0].equals("--one-thread");
        if (oneThread) {
            args = Arrays.copyOfRange(args, 1, args.length);
        }
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 200_000;
        int warmup = args.length > 1 ? Integer.parseInt(args[1]) : 50_000;
        String pollUsec = args.length > 2 ? args[2] : "-1";
        TcpConnectOptions options = TcpConnectOptions.DEFAULT.withNoDelay(true);
        // Any slipstream.* setting from the environment (SLIPSTREAM_*) or -D applies too.
        Map<String, String> settings = new HashMap<>(Settings.fromSystem().asMap());
        settings.put("slipstream.poll.usec", pollUsec);
        if (oneThread) {
            System.out.printf("TCP ping-pong, %d bytes, %d round trips after %d warm-up, one thread driving both stacks%n",
                    MESSAGE, rounds, warmup);
            print("Slipstream, one thread", oneThread(settings, options, rounds, warmup));
            return;
        }
        try (TcpPair p = new TcpPair(settings)) {
            BlockingConnection[] ends = p.connect(7001, options);
            BlockingConnection client = ends[0];
            BlockingConnection server = ends[1];
            int total = warmup + rounds;
            long[] echoAllocated = new long[1];
            Thread echo = Thread.ofPlatform().name("pong").start(() -> {
                ByteBuffer buf = ByteBuffer.allocateDirect(MESSAGE);
                try {
                    for (int i = 0; i < total; i++) {
                        if (i == warmup) {
                            echoAllocated[0] = -THREADS.getCurrentThreadAllocatedBytes();
                        }
                        buf.clear();
                        if (!server.readFully(buf)) {
                            return;
                        }
                        buf.flip();
                        server.write(buf);
                    }
                    echoAllocated[0] += THREADS.getCurrentThreadAllocatedBytes();
                } catch (Exception e) {
                    e.printStackTrace();
                }
            });
            ByteBuffer out = ByteBuffer.allocateDirect(MESSAGE);
            ByteBuffer in = ByteBuffer.allocateDirect(MESSAGE);
            long[] rtt = new long[rounds];
            long clientAllocated = 0;
            for (int i = 0; i < total; i++) {
                if (i == warmup) {
                    clientAllocated = -THREADS.getCurrentThreadAllocatedBytes();
                }
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
            clientAllocated += THREADS.getCurrentThreadAllocatedBytes();
            echo.join();
            Arrays.sort(rtt);
            System.out.printf("TCP ping-pong, %d bytes, %d round trips after %d warm-up, slipstream.poll.usec=%s%n",
                    MESSAGE, rounds, warmup, pollUsec);
            print("Slipstream (in-memory NIC)", rtt);
            System.out.printf("interrupts enabled A/B: %d/%d, application polls A/B: %d/%d%n",
                    p.a.runtimeCounters().get(RuntimeCounter.INTERRUPTS_ENABLED),
                    p.b.runtimeCounters().get(RuntimeCounter.INTERRUPTS_ENABLED),
                    p.a.runtimeCounters().get(RuntimeCounter.APP_POLLS),
                    p.b.runtimeCounters().get(RuntimeCounter.APP_POLLS));
            // The data path allocates nothing in steady state: the heap bytes each thread
            // allocated over the measured round trips (the JDK counts them per thread).
            System.out.printf("heap allocated per round trip after warm-up: A %.2f B, B %.2f B%n",
                    clientAllocated / (double) rounds, echoAllocated[0] / (double) rounds);
            client.close();
            server.close();
            // The kernel's TCP over loopback, same shape, same run: blocking reads (how most
            // programs wait) and spinning non-blocking reads (the fair match for busy-polling).
            long[] blocking = kernelPingPong(rounds, warmup, false);
            print("kernel loopback, blocking", blocking);
            long[] spinning = kernelPingPong(rounds, warmup, true);
            print("kernel loopback, spinning", spinning);
            long[] best = pct(spinning, 0.5) <= pct(blocking, 0.5) ? spinning : blocking;
            System.out.printf("ratio Slipstream / best kernel: p50 %.2f, p99 %.2f%n",
                    pct(rtt, 0.50) / pct(best, 0.50), pct(rtt, 0.99) / pct(best, 0.99));
        }
    }

    /**
     * The same exchange with one thread doing both sides' work in turn, on a fresh pair: each
     * step enters its stack (one poll pass), sends or receives, and leaves, until the message
     * is through. The difference from the two-thread figure is the hand-off between cores.
     */
    private static long[] oneThread(Map<String, String> settings, TcpConnectOptions options, int rounds, int warmup)
            throws Exception {
        try (TcpPair p = new TcpPair(settings)) {
            BlockingConnection[] ends = p.connect(7002, options);
            TcpConnection client = ends[0].connection();
            TcpConnection server = ends[1].connection();
            ByteBuffer out = ByteBuffer.allocateDirect(MESSAGE);
            ByteBuffer echo = ByteBuffer.allocateDirect(MESSAGE);
            ByteBuffer in = ByteBuffer.allocateDirect(MESSAGE);
            long[] rtt = new long[rounds];
            for (int i = 0; i < warmup + rounds; i++) {
                out.clear().putLong(0, i);
                echo.clear();
                in.clear();
                long start = System.nanoTime();
                send(p.a, client, out);
                receive(p.b, server, echo);
                echo.flip();
                send(p.b, server, echo);
                receive(p.a, client, in);
                long t = System.nanoTime() - start;
                if (in.getLong(0) != i) {
                    throw new IllegalStateException("one-thread round " + i + " came back altered");
                }
                if (i >= warmup) {
                    rtt[i - warmup] = t;
                }
            }
            ends[0].close();
            ends[1].close();
            Arrays.sort(rtt);
            return rtt;
        }
    }

    private static void send(Stack stack, TcpConnection c, ByteBuffer b) {
        while (b.hasRemaining()) {
            stack.enter();
            try {
                c.send(b);
            } finally {
                stack.exit();
            }
        }
    }

    private static void receive(Stack stack, TcpConnection c, ByteBuffer b) {
        for (int spins = 0; b.hasRemaining(); spins++) {
            if (spins > 1_000_000) {
                throw new IllegalStateException("one-thread exchange stalled: " + c);
            }
            stack.enter();
            try {
                if (c.receive(b) < 0) {
                    throw new IllegalStateException("EOF in the one-thread exchange");
                }
            } finally {
                stack.exit();
            }
        }
    }

    /** 64-byte ping-pong between two JDK SocketChannels on 127.0.0.1, one thread per side. */
    private static long[] kernelPingPong(int rounds, int warmup, boolean spin) throws Exception {
        try (ServerSocketChannel listener = ServerSocketChannel.open()) {
            listener.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            SocketChannel client = SocketChannel.open(listener.getLocalAddress());
            SocketChannel server = listener.accept();
            for (SocketChannel c : new SocketChannel[] {client, server}) {
                c.setOption(StandardSocketOptions.TCP_NODELAY, true);
                c.configureBlocking(!spin);
            }
            Thread echo = Thread.ofPlatform().name("kernel-pong").start(() -> {
                try {
                    ChannelPingPong.echo(server, rounds, warmup);
                } catch (IOException e) {
                    e.printStackTrace();
                }
            });
            long[] rtt = ChannelPingPong.ping(client, rounds, warmup).sortedRttNs();
            echo.join();
            client.close();
            server.close();
            return rtt;
        }
    }
}
