package io.slipstream.bench;

import io.slipstream.config.Settings;
import io.slipstream.config.StackConfig;
import io.slipstream.stack.Stack;
import io.slipstream.tcp.TcpConfig;
import io.slipstream.tcp.TcpLayer;
import io.slipstream.time.Clock;
import java.util.HashMap;
import java.util.Map;
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
        tcpA = attachTcp(a);
        tcpB = attachTcp(b);
    }

    private static StackConfig config(String link, String cidr, String mac, Map<String, String> options) {
        Map<String, String> m = new HashMap<>(options);
        m.put("slipstream.driver", "memory");
        m.put("slipstream.interface", link);
        m.put("slipstream.address", cidr);
        m.put("slipstream.mac", mac);
        return StackConfig.from(Settings.of(m));
    }

    /** Adds a TCP layer (keyed with fresh random secrets) to {@code stack}. */
    public static TcpLayer attachTcp(Stack stack) {
        TcpLayer tcp = new TcpLayer(stack.ip(), stack.timers(), stack.clock(),
                TcpConfig.from(stack.config().settings()));
        stack.register(tcp);
        return tcp;
    }

    @Override
    public void close() {
        a.close();
        b.close();
    }
}
