package io.slipstream.shim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.slipstream.config.Settings;
import io.slipstream.testing.StackChecks;
import io.slipstream.config.StackConfig;
import io.slipstream.interop.TapSandbox;
import io.slipstream.stack.RuntimeCounter;
import io.slipstream.stack.RuntimeCounters;
import io.slipstream.stack.Stack;
import io.slipstream.testing.NetNs;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Pipe;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A selector holding accelerated channels of a TAP stack and a kernel channel (a pipe, as
 * frameworks register beside their listener) wakes on the NIC: an event-loop echo server on the
 * stack serves a kernel client in a network namespace the test creates (198.18.12.0/24), and
 * every request reaches it through the selector's own watch of the TAP descriptor, not through
 * the interrupt thread's stall rescue nor its interrupt service. {@code slipstream.poll.usec=0}
 * so the selector never spins: each request that finds it idle must wake it from its sleep.
 */
@Timeout(120)
class TapMixedSelectorTest {
    private static final String KERNEL_IP = "198.18.12.1";
    private static final String STACK_IP = "198.18.12.2";
    private static final String KERNEL_IP_B = "198.18.13.1";
    private static final String STACK_IP_B = "198.18.13.2";
    private static final int PORT = 7100;
    private static final int REQUESTS = 200;
    private static final int REQUEST_BYTES = 64;
    private static final Duration STEP = Duration.ofSeconds(60);

    private NetNs ns;
    private Stack stack;
    private StackConfig config;

    @BeforeEach
    void open() {
        NetNs.assumeRootWith("TAP tests need root (CAP_NET_ADMIN): skipped", "python3");
        ns = NetNs.create("ssmix");
        String device = "ssm" + NetNs.randomHex(8);
        config = tapConfig(device, STACK_IP);
        stack = ShimStacks.get(config).stack();
        // The device is created in our namespace; the kernel's side of it moves into the sandbox.
        TapSandbox.kernelSideIn(ns, device, KERNEL_IP + "/24");
    }

    /** A TAP stack on {@code device} at {@code address}/24 whose waiting threads never spin. */
    private static StackConfig tapConfig(String device, String address) {
        return StackConfig.from(Settings.of(Map.of(
                "slipstream.driver", "tap",
                "slipstream.interface", device,
                "slipstream.address", address + "/24",
                "slipstream.poll.usec", "0",
                // A rescue needs an event to wait this long unpolled: a selector thread that a
                // busy machine schedules late does not make one, a selector nobody wakes does.
                "slipstream.stall.usec", "20000",
                "slipstream.interrupt.overflow.usec", "20000")));
    }

    @AfterEach
    void close() {
        StackChecks.closeChecked(stack);
        if (ns != null) {
            ns.close();
        }
    }

    @Test
    void aMixedSelectorWakesOnTheNicWithoutTheStallRescue() throws Exception {
        SlipstreamSelectorProvider provider = new SlipstreamSelectorProvider(Settings.of(Map.of()), List.of(config));
        Pipe pipe = provider.openPipe();
        try (Selector selector = provider.openSelector();
                ServerSocketChannel server = provider.openServerSocketChannel();
                NetNs.Background client = ns.start("python3", "-c", clientScript(List.of(STACK_IP), REQUESTS))) {
            server.bind(new InetSocketAddress(STACK_IP, PORT));
            server.configureBlocking(false);
            server.register(selector, SelectionKey.OP_ACCEPT);
            pipe.source().configureBlocking(false);
            SelectionKey pipeKey = pipe.source().register(selector, SelectionKey.OP_READ);

            long[][] before = new long[1][];
            long[][] after = new long[1][];
            int served = serveEcho(selector, 1, REQUESTS, List.of(stack), before, after, client);
            NetNs.Result ended = client.await(STEP);
            assertTrue(ended.ok(), () -> "client: " + ended);
            assertEquals("echoed " + REQUESTS, ended.stdout().trim());
            assertEquals(REQUESTS, served);
            assertWokeOnTheNic(stack, before[0], after[0]);

            // The kernel key of the same selector still works.
            pipe.sink().write(ByteBuffer.wrap(new byte[] {1}));
            boolean piped = false;
            for (int i = 0; i < 100 && !piped; i++) {
                selector.select(100);
                piped = selector.selectedKeys().remove(pipeKey) && pipeKey.isReadable();
            }
            assertTrue(piped, "the pipe's readiness was reported");
        } finally {
            pipe.sink().close();
            pipe.source().close();
        }
    }

    @Test
    void aSelectorOverTwoStacksWakesOnBothNicsWithoutTheStallRescue() throws Exception {
        NetNs.assumeRootWith("TAP tests need root (CAP_NET_ADMIN): skipped", "python3");
        String deviceB = "ssm" + NetNs.randomHex(8);
        StackConfig configB = tapConfig(deviceB, STACK_IP_B);
        Stack stackB = ShimStacks.get(configB).stack();
        try {
            TapSandbox.kernelSideIn(ns, deviceB, KERNEL_IP_B + "/24");
            SlipstreamSelectorProvider provider =
                    new SlipstreamSelectorProvider(Settings.of(Map.of()), List.of(config, configB));
            int each = REQUESTS / 2;
            try (Selector selector = provider.openSelector();
                    ServerSocketChannel serverA = provider.openServerSocketChannel();
                    ServerSocketChannel serverB = provider.openServerSocketChannel();
                    // One client, its requests alternating between the stacks: each finds the
                    // selector asleep more often than not, and must wake it through its own NIC.
                    NetNs.Background client = ns.start("python3", "-c", clientScript(List.of(STACK_IP, STACK_IP_B), each))) {
                for (ServerSocketChannel server : List.of(serverA, serverB)) {
                    server.bind(new InetSocketAddress(server == serverA ? STACK_IP : STACK_IP_B, PORT));
                    server.configureBlocking(false);
                    server.register(selector, SelectionKey.OP_ACCEPT);
                }
                long[][] before = new long[2][];
                long[][] after = new long[2][];
                int served = serveEcho(selector, 2, 2 * each, List.of(stack, stackB), before, after, client);
                NetNs.Result ended = client.await(STEP);
                assertTrue(ended.ok(), () -> "client: " + ended);
                assertEquals("echoed " + each, ended.stdout().trim());
                assertEquals(2 * each, served);
                assertWokeOnTheNic(stack, before[0], after[0]);
                assertWokeOnTheNic(stackB, before[1], after[1]);
            }
        } finally {
            StackChecks.closeChecked(stackB);
        }
    }

    /**
     * An event loop as frameworks write one: accepts on the selector's listeners and echoes each
     * connection's requests of REQUEST_BYTES, until {@code requests} were served, the time ran out
     * or the client ended. Snapshots each stack's counters once {@code connections} are accepted
     * ({@code before}) and at the last request ({@code after}). Returns the requests served.
     */
    private static int serveEcho(Selector selector, int connections, int requests, List<Stack> stacks,
            long[][] before, long[][] after, NetNs.Background client) throws Exception {
        int accepted = 0;
        int served = 0;
        long deadline = System.nanoTime() + STEP.toNanos();
        while (served < requests && System.nanoTime() - deadline < 0 && client.isAlive()) {
            selector.select(1_000);
            for (Iterator<SelectionKey> it = selector.selectedKeys().iterator(); it.hasNext(); ) {
                SelectionKey key = it.next();
                it.remove();
                if (key.isAcceptable()) {
                    SocketChannel ch = ((ServerSocketChannel) key.channel()).accept();
                    if (ch != null) {
                        assertTrue(((ShimSocketChannel) ch).isAccelerated(), "the connection is on the stack");
                        ch.configureBlocking(false);
                        ch.register(selector, SelectionKey.OP_READ, ByteBuffer.allocate(REQUEST_BYTES));
                        if (++accepted == connections) {
                            snapshot(stacks, before);
                        }
                    }
                } else if (key.isReadable() && key.attachment() instanceof ByteBuffer request) {
                    SocketChannel ch = (SocketChannel) key.channel();
                    if (ch.read(request) < 0) {
                        key.cancel();
                        ch.close();
                        continue;
                    }
                    if (!request.hasRemaining()) {
                        request.flip();
                        while (request.hasRemaining()) {
                            ch.write(request); // 64 bytes fit the send buffer: never loops long
                        }
                        request.clear();
                        if (++served == requests) {
                            snapshot(stacks, after);
                        }
                    }
                }
            }
        }
        return served;
    }

    /**
     * Between the snapshots the stack's requests reached the waiting thread through its own watch
     * of the TAP descriptor: no stall rescue, no interrupt service (a second thread). Requests
     * that arrive while it works are found by its next poll; those that find it asleep wake it
     * (how many of each depends on the machine's speed).
     */
    private static void assertWokeOnTheNic(Stack s, long[] b, long[] a) {
        RuntimeCounters counters = s.runtimeCounters();
        assertEquals(b[0], a[0], () -> "no stall rescue while the thread waited: " + counters);
        assertEquals(b[1], a[1], () -> "no interrupt service (a second thread) while the thread waited: " + counters);
        assertTrue(a[2] > b[2], () -> "the thread woke on the TAP descriptor: " + counters);
    }

    @Test
    void aBlockingWildcardAcceptWakesOnTheNicWithoutTheStallRescue() throws Exception {
        SlipstreamSelectorProvider provider = new SlipstreamSelectorProvider(Settings.of(Map.of()), List.of(config));
        int connections = 20;
        try (ServerSocketChannel server = provider.openServerSocketChannel()) {
            server.bind(new InetSocketAddress(PORT + 1));
            assertTrue(server.toString().contains("kernel accelerated"), server.toString());
            try (NetNs.Background client = ns.start("python3", "-c", connectScript(PORT + 1, connections))) {
                long[][] before = new long[1][];
                for (int i = 0; i < connections; i++) {
                    try (SocketChannel accepted = server.accept()) {
                        assertTrue(((ShimSocketChannel) accepted).isAccelerated(), "connection " + i + " is on the stack");
                        if (before[0] == null) {
                            snapshot(List.of(stack), before);
                        }
                        accepted.write(ByteBuffer.wrap(new byte[] {(byte) i}));
                    }
                }
                long[][] after = new long[1][];
                snapshot(List.of(stack), after);
                NetNs.Result ended = client.await(STEP);
                assertTrue(ended.ok(), () -> "client: " + ended);
                assertEquals("connected " + connections, ended.stdout().trim());
                assertWokeOnTheNic(stack, before[0], after[0]);
            }
        }
    }

    /** A kernel client: {@code n} connections one after the other, each reading the server's one byte. */
    private static String connectScript(int port, int n) {
        return String.join("\n",
                "import socket, sys, time",
                "for i in range(" + n + "):",
                "    deadline = time.time() + 30",
                "    while True:",
                "        try:",
                "            s = socket.create_connection(('" + STACK_IP + "', " + port + "), timeout=10)",
                "            break",
                "        except OSError:",
                "            if time.time() > deadline: raise",
                "            time.sleep(0.05)",
                "    got = s.recv(1)",
                "    assert got == bytes([i]), 'connection %d got %r' % (i, got)",
                "    s.close()",
                "    time.sleep(0.005)",
                "print('connected', " + n + ")");
    }

    /** Each stack's stall rescues, interrupt wakeups and NIC-watch wakeups, now, into {@code into}. */
    private static void snapshot(List<Stack> stacks, long[][] into) {
        for (int i = 0; i < stacks.size(); i++) {
            RuntimeCounters c = stacks.get(i).runtimeCounters();
            into[i] = new long[] {c.get(RuntimeCounter.STALL_RESCUES), c.get(RuntimeCounter.INTERRUPT_WAKEUPS),
                    c.get(RuntimeCounter.NIC_WATCH_WAKEUPS)};
        }
    }

    /**
     * A kernel client: one connection to each of {@code servers}, then {@code requests} rounds of
     * one ping-pong of REQUEST_BYTES on each connection in turn, each checked.
     */
    private static String clientScript(List<String> servers, int requests) {
        return String.join("\n",
                "import socket, sys, time",
                "conns = []",
                "for server in " + servers.stream().map(a -> "'" + a + "'").toList() + ":",
                "    deadline = time.time() + 30",
                "    while True:",
                "        try:",
                "            s = socket.create_connection((server, " + PORT + "), timeout=10)",
                "            break",
                "        except OSError:",
                "            if time.time() > deadline: raise",
                "            time.sleep(0.05)",
                "    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)",
                "    conns.append(s)",
                "for i in range(" + requests + "):",
                "    for s in conns:",
                "        msg = bytes([i % 256]) * " + REQUEST_BYTES,
                "        s.sendall(msg)",
                "        got = b''",
                "        while len(got) < len(msg):",
                "            chunk = s.recv(len(msg) - len(got))",
                "            if not chunk: sys.exit('closed after %d' % i)",
                "            got += chunk",
                "        assert got == msg, 'echo %d differs' % i",
                "for s in conns:",
                "    s.close()",
                "print('echoed', " + requests + ")");
    }
}
