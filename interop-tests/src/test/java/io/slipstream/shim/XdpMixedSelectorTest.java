package io.slipstream.shim;

import static io.slipstream.shim.NicWakeups.STEP;
import static io.slipstream.shim.NicWakeups.assertWokeOnTheNic;
import static io.slipstream.shim.NicWakeups.connectScript;
import static io.slipstream.shim.NicWakeups.echoBesideAPipe;
import static io.slipstream.shim.NicWakeups.echoOverStacks;
import static io.slipstream.shim.NicWakeups.snapshot;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.slipstream.config.Settings;
import io.slipstream.config.StackConfig;
import io.slipstream.nic.NicCounter;
import io.slipstream.stack.Stack;
import io.slipstream.tcp.TcpCounter;
import io.slipstream.testing.NetNs;
import io.slipstream.testing.StackChecks;
import io.slipstream.testing.VethPair;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.channels.Pipe;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Issue 15 on the xdp driver: a stack sharing one end of a veth pair with the kernel (its
 * address the kernel's), the kernel peer on the other end in the pair's namespace. A selector
 * holding the stack's channels and a kernel channel, and a wildcard listener's blocking accept,
 * (and one over two xdp stacks) wake on the AF_XDP socket itself ({@link NicWakeups#assertWokeOnTheNic}: NIC-watch wake-ups,
 * no stall rescue, no interrupt service); the wildcard listener takes the connections to the stack's address on
 * the stack and loopback's on the kernel, serving both. Waiting threads never
 * spin, so every frame that finds one asleep must wake it.
 */
@Timeout(120)
class XdpMixedSelectorTest {
    private static final int PORT = 7200;
    private static final int REQUESTS = 200;

    private VethPair veth;
    private Stack stack;
    private StackConfig config;
    private SlipstreamSelectorProvider provider;

    @BeforeEach
    void open() {
        Assumptions.assumeTrue(NetNs.isRoot(), "XDP tests need root (CAP_NET_ADMIN, CAP_BPF): skipped");
        Assumptions.assumeTrue(NetNs.onPath("ethtool") && NetNs.onPath("python3"), "needs ethtool and python3: skipped");
        veth = VethPair.create(1);
        config = xdpConfig(veth.local());
        provider = new SlipstreamSelectorProvider(Settings.of(Map.of()), List.of(config));
        stack = ShimStacks.get(config).stack();
    }

    /** An xdp stack on {@code iface}, on the kernel's address, whose waiting threads never spin. */
    private static StackConfig xdpConfig(String iface) {
        Map<String, String> m = new HashMap<>(NicWakeups.NEVER_SPIN);
        m.putAll(Map.of("slipstream.driver", "xdp", "slipstream.interface", iface));
        return StackConfig.from(Settings.of(m));
    }

    @AfterEach
    void close() throws Exception {
        StackChecks.closeChecked(stack, veth);
    }

    @Test
    void aMixedSelectorOnXdpWakesOnTheXdpSocketWithoutTheStallRescue() throws Exception {
        echoBesideAPipe(provider, stack, veth.ns(), veth.localAddress(), PORT, REQUESTS);
    }

    /**
     * One selector over two xdp stacks, each on a veth pair of its own, the peer ends of both in
     * one namespace with the kernel client: the requests to each stack wake it through that
     * stack's AF_XDP socket.
     */
    @Test
    void aSelectorOverTwoXdpStacksWakesOnBothSocketsWithoutTheStallRescue() throws Exception {
        VethPair other = VethPair.create(1);
        // Its /24 must differ from the first pair's, or the kernel's routes would mix the two.
        for (int i = 0; i < 20 && subnet(other).equals(subnet(veth)); i++) {
            other.close();
            other = VethPair.create(1);
        }
        StackConfig configB = xdpConfig(other.local());
        Stack stackB = null;
        try {
            assertFalse(subnet(other).equals(subnet(veth)), "two subnets");
            other.movePeerTo(veth.ns()); // one client reaches both stacks
            stackB = ShimStacks.get(configB).stack();
            SlipstreamSelectorProvider both = new SlipstreamSelectorProvider(Settings.of(Map.of()), List.of(config, configB));
            echoOverStacks(both, List.of(stack, stackB), List.of(veth.localAddress(), other.localAddress()), veth.ns(),
                    PORT, REQUESTS / 2);
        } finally {
            StackChecks.closeChecked(stackB, other);
        }
    }

    /** The pair's /24, as its first three octets. */
    private static String subnet(VethPair pair) {
        return pair.localAddress().substring(0, pair.localAddress().lastIndexOf('.'));
    }

    /**
     * A wildcard listener (0.0.0.0, as servers bind): the kernel peer's connections to the
     * interface's address (the stack's) are the stack's, accepted accelerated, counted by its
     * TCP, their SYNs waking the blocked accept through the AF_XDP socket; loopback's, and those
     * to a second address the kernel has on the interface (a stack holds one address:
     * docs/COMPATIBILITY.md), are the kernel's and never touch the stack. Each is served a byte.
     */
    @Test
    void aWildcardListenerOnXdpTakesTheStacksAddressOnTheStackAndLoopbackAndOtherAddressesOnTheKernel()
            throws Exception {
        String second = veth.localAddress().substring(0, veth.localAddress().lastIndexOf('.')) + ".5";
        NetNs.run("ip", "addr", "add", second + "/24", "dev", veth.local()).orThrow();
        int connections = 20;
        try (ServerSocketChannel server = provider.openServerSocketChannel()) {
            server.bind(new InetSocketAddress(PORT + 1));
            assertTrue(server.toString().contains("kernel accelerated"), server.toString());
            long acceptedBefore = stack.tcp().counters().get(TcpCounter.CONNECTIONS_ACCEPTED);
            long rxBefore = stack.nic().stats().get(NicCounter.RX_FRAMES);
            long[][] before = new long[1][];
            long[][] after = new long[1][];
            acceptFromThePeer(server, veth.localAddress(), connections, true, before, after);
            assertWokeOnTheNic(stack, before[0], after[0]);
            assertEquals(connections, stack.tcp().counters().get(TcpCounter.CONNECTIONS_ACCEPTED) - acceptedBefore,
                    "the stack's TCP accepted every connection to its address");
            assertTrue(stack.nic().stats().get(NicCounter.RX_FRAMES) > rxBefore, "their frames came in on AF_XDP");

            long acceptedOnStack = stack.tcp().counters().get(TcpCounter.CONNECTIONS_ACCEPTED);
            acceptFromThePeer(server, second, 3, false, new long[1][], new long[1][]);
            for (int i = 0; i < 3; i++) {
                try (Socket local = new Socket("127.0.0.1", PORT + 1); SocketChannel accepted = server.accept()) {
                    assertFalse(((ShimSocketChannel) accepted).isAccelerated(), () -> "loopback is the kernel's: " + accepted);
                    accepted.write(ByteBuffer.wrap(new byte[] {(byte) (100 + i)}));
                    local.setSoTimeout(10_000);
                    InputStream in = local.getInputStream();
                    assertEquals(100 + i, in.read(), "the loopback client was served");
                }
            }
            assertEquals(acceptedOnStack, stack.tcp().counters().get(TcpCounter.CONNECTIONS_ACCEPTED),
                    "the kernel's connections never touched the stack");
        }
    }

    /**
     * Accepts {@code n} connections the kernel peer makes to {@code address}, one after the
     * other, each on the stack or not as {@code accelerated} says, and serves each its byte;
     * snapshots the stack's counters at the first accept ({@code first}) and after the last
     * ({@code last}: before the client's last FIN, which finds nobody waiting).
     */
    private void acceptFromThePeer(ServerSocketChannel server, String address, int n, boolean accelerated,
            long[][] first, long[][] last) throws Exception {
        try (NetNs.Background client = veth.ns().start("python3", "-c", connectScript(address, PORT + 1, n))) {
            for (int i = 0; i < n; i++) {
                try (SocketChannel accepted = server.accept()) {
                    assertEquals(accelerated, ((ShimSocketChannel) accepted).isAccelerated(),
                            () -> "a connection to " + address + " on the stack: " + accepted);
                    assertEquals(new InetSocketAddress(veth.peerAddress(), 0).getAddress(),
                            ((InetSocketAddress) accepted.getRemoteAddress()).getAddress());
                    if (first[0] == null) {
                        snapshot(List.of(stack), first);
                    }
                    accepted.write(ByteBuffer.wrap(new byte[] {(byte) i}));
                }
            }
            snapshot(List.of(stack), last);
            NetNs.Result ended = client.await(STEP);
            assertTrue(ended.ok(), () -> "client of " + address + ": " + ended);
            assertEquals("connected " + n, ended.stdout().trim());
        }
    }

    /**
     * Virtual threads waiting in mixed selectors (a pipe beside the stack's listener) and in
     * wildcard accepts, one more of them than the scheduler has carriers, hold none: each is
     * parked (unmounted, where a thread blocked in native code stays RUNNABLE), a
     * further virtual thread still runs, and then the kernel peer's connections wake every one
     * of them, through the AF_XDP socket.
     */
    @Test
    void virtualThreadsWaitingOnTheStackAndTheKernelHoldNoCarrier() throws Exception {
        int carriers = Integer.getInteger("jdk.virtualThreadScheduler.parallelism",
                Runtime.getRuntime().availableProcessors());
        int waiters = carriers + 1;
        List<AutoCloseable> opened = Collections.synchronizedList(new ArrayList<>());
        List<Thread> threads = new ArrayList<>();
        List<Integer> ports = new ArrayList<>();
        AtomicInteger woken = new AtomicInteger();
        AtomicReference<Throwable> failed = new AtomicReference<>();
        Pipe pipe = provider.openPipe();
        opened.add(pipe.sink());
        opened.add(pipe.source());
        try {
            pipe.source().configureBlocking(false);
            for (int i = 0; i < waiters; i++) {
                int port = PORT + 10 + i;
                ports.add(port);
                ServerSocketChannel server = provider.openServerSocketChannel();
                opened.add(server);
                Runnable wait;
                if (i % 2 == 0) {
                    server.bind(new InetSocketAddress(veth.localAddress(), port));
                    server.configureBlocking(false);
                    Selector selector = provider.openSelector();
                    opened.add(selector);
                    SelectionKey accept = server.register(selector, SelectionKey.OP_ACCEPT);
                    pipe.source().register(selector, SelectionKey.OP_READ);
                    wait = () -> countIf(woken, failed, () -> selector.select(STEP.toMillis()) == 1
                            && selector.selectedKeys().contains(accept) && accept.isAcceptable());
                } else {
                    server.bind(new InetSocketAddress(port));
                    assertTrue(server.toString().contains("kernel accelerated"), server.toString());
                    // The connection stays open to the end: its FIN would find nobody waiting.
                    wait = () -> countIf(woken, failed, () -> {
                        SocketChannel accepted = server.accept();
                        opened.add(accepted);
                        return ((ShimSocketChannel) accepted).isAccelerated();
                    });
                }
                threads.add(Thread.ofVirtual().name("waiter-" + i).start(wait));
            }
            for (Thread t : threads) {
                for (int i = 0; i < 1_000 && !parked(t) && t.isAlive(); i++) {
                    Thread.sleep(10);
                }
                assertTrue(parked(t), () -> t + " is parked, not on a carrier");
            }
            CountDownLatch ran = new CountDownLatch(1);
            Thread.ofVirtual().start(ran::countDown);
            assertTrue(ran.await(STEP.toSeconds(), TimeUnit.SECONDS),
                    () -> "a virtual thread ran beside " + waiters + " waiting ones on " + carriers + " carriers");

            long[][] before = new long[1][];
            snapshot(List.of(stack), before);
            long[][] after = new long[1][];
            try (NetNs.Background client = veth.ns().start("python3", "-c",
                    connectAllScript(veth.localAddress(), ports))) {
                for (Thread t : threads) {
                    assertTrue(t.join(STEP), () -> t + " woke");
                }
                // Before the client closes (3 s after its last connect): its FINs find no waiter,
                // and are the stall rescue's.
                snapshot(List.of(stack), after);
                NetNs.Result ended = client.await(STEP);
                assertEquals("connected " + waiters, ended.stdout().trim(), () -> "client: " + ended);
            }
            assertEquals(null, failed.get());
            assertEquals(waiters, woken.get(), "every waiter saw its connection, on the stack");
            // Not "no stall rescue": a waiter that leaves once woken never polls again, so when the
            // others slept unarmed on the rule that the thread it woke would poll (docs/
            // COMPATIBILITY.md), the next SYN waits for the rescue; an event loop comes back.
            assertTrue(after[0][2] > before[0][2], () -> "woken on the AF_XDP socket: " + stack.runtimeCounters());
        } finally {
            synchronized (opened) {
                for (AutoCloseable c : opened.reversed()) {
                    c.close();
                }
            }
        }
    }

    /** A virtual thread in (timed) park is unmounted; one blocked in a native call is RUNNABLE. */
    private static boolean parked(Thread t) {
        Thread.State state = t.getState();
        return state == Thread.State.WAITING || state == Thread.State.TIMED_WAITING;
    }

    /** What a waiting virtual thread checks once woken, which may throw. */
    private interface Check {
        boolean holds() throws Exception;
    }

    private static void countIf(AtomicInteger count, AtomicReference<Throwable> failed, Check check) {
        try {
            if (check.holds()) {
                count.incrementAndGet();
            }
        } catch (Throwable e) {
            failed.compareAndSet(null, e);
        }
    }

    /**
     * A kernel client: one connection to each of {@code ports} of {@code server}, all held until
     * three seconds after the last is made (the waiters wake on their SYNs, long before).
     */
    private static String connectAllScript(String server, List<Integer> ports) {
        return String.join("\n",
                "import socket, time",
                "conns = []",
                "for port in " + ports + ":",
                "    deadline = time.time() + 30",
                "    while True:",
                "        try:",
                "            conns.append(socket.create_connection(('" + server + "', port), timeout=10))",
                "            break",
                "        except OSError:",
                "            if time.time() > deadline: raise",
                "            time.sleep(0.05)",
                "time.sleep(3)",
                "for s in conns:",
                "    s.close()",
                "print('connected', len(conns))");
    }
}
