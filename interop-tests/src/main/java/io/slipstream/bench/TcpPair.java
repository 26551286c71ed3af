package io.slipstream.bench;

import io.slipstream.config.Settings;
import io.slipstream.config.StackConfig;
import io.slipstream.stack.Stack;
import io.slipstream.tcp.TcpLayer;
import io.slipstream.time.Clock;
import io.slipstream.stack.WaitQueue;
import io.slipstream.tcp.TcpConnectOptions;
import io.slipstream.tcp.TcpListener;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Two stacks with TCP, joined back to back by the in-memory NIC, on the real clock and with
 * their runtimes (interrupt threads) running: what an application in one JVM would get. Used
 * by the runtime's acceptance tests and by the ping-pong benchmark.
 */
public final class TcpPair implements AutoCloseable {
    public static final String A_CIDR = "198.18.0.1/24";
    public static final String B_CIDR = "198.18.0.2/24";
    public static final int A_ADDRESS = 0xC6120001;
    public static final int B_ADDRESS = 0xC6120002;
    private static final AtomicInteger LINKS = new AtomicInteger();

    public final Stack a;
    public final Stack b;
    public final TcpLayer tcpA;
    public final TcpLayer tcpB;

    /** @param options {@code slipstream.*} settings for both stacks (runtime, TCP, link impairments) */
    public TcpPair(Map<String, String> options) {
        String link = "rt" + ProcessHandle.current().pid() % 10_000 + "x" + LINKS.incrementAndGet();
        a = Stack.open(config(link, A_CIDR, "02:00:00:00:00:0a", options), Clock.SYSTEM);
        b = Stack.open(config(link, B_CIDR, "02:00:00:00:00:0b", options), Clock.SYSTEM);
        tcpA = a.tcp();
        tcpB = b.tcp();
    }

    private static StackConfig config(String link, String cidr, String mac, Map<String, String> options) {
        Map<String, String> m = new HashMap<>(options);
        m.put("slipstream.driver", "memory");
        m.put("slipstream.interface", link);
        m.put("slipstream.address", cidr);
        m.put("slipstream.mac", mac);
        return StackConfig.from(Settings.of(m));
    }

    /**
     * Opens a connection from A to B on {@code port}: B listens and accepts on a thread of its
     * own while A connects. Returns {client on A, server on B}.
     */
    public BlockingConnection[] connect(int port, TcpConnectOptions options) throws Exception {
        TcpListener[] listener = new TcpListener[1];
        WaitQueue listenerQueue = BlockingConnection.listen(b, tcpB, port, 1, options, listener);
        CompletableFuture<BlockingConnection> accepted = new CompletableFuture<>();
        Thread.ofPlatform().name("accept-" + port).start(() -> {
            try {
                accepted.complete(BlockingConnection.accept(b, listener[0], listenerQueue));
            } catch (Exception e) {
                accepted.completeExceptionally(e);
            }
        });
        BlockingConnection client = BlockingConnection.connect(a, tcpA, B_ADDRESS, port, options);
        return new BlockingConnection[] {client, accepted.get()};
    }

    @Override
    public void close() {
        a.close();
        b.close();
    }
}
