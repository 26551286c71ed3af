package io.slipstream.shim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.slipstream.config.Settings;
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
        config = StackConfig.from(Settings.of(Map.of(
                "slipstream.driver", "tap",
                "slipstream.interface", device,
                "slipstream.address", STACK_IP + "/24",
                "slipstream.poll.usec", "0",
                // A rescue needs an event to wait this long unpolled: a selector thread that a
                // busy machine schedules late does not make one, a selector nobody wakes does.
                "slipstream.stall.usec", "20000",
                "slipstream.interrupt.overflow.usec", "20000")));
        stack = ShimStacks.get(config).stack();
        // The device is created in our namespace; the kernel's side of it moves into the sandbox.
        TapSandbox.kernelSideIn(ns, device, KERNEL_IP + "/24");
    }

    @AfterEach
    void close() {
        TapSandbox.close(stack);
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
                NetNs.Background client = ns.start("python3", "-c", clientScript())) {
            server.bind(new InetSocketAddress(STACK_IP, PORT));
            server.configureBlocking(false);
            server.register(selector, SelectionKey.OP_ACCEPT);
            pipe.source().configureBlocking(false);
            SelectionKey pipeKey = pipe.source().register(selector, SelectionKey.OP_READ);

            RuntimeCounters counters = stack.runtimeCounters();
            long[] before = null;
            long[] after = null;
            int served = 0;
            ByteBuffer request = ByteBuffer.allocate(REQUEST_BYTES);
            long deadline = System.nanoTime() + STEP.toNanos();
            while (served < REQUESTS && System.nanoTime() - deadline < 0 && client.isAlive()) {
                selector.select(1_000);
                for (Iterator<SelectionKey> it = selector.selectedKeys().iterator(); it.hasNext(); ) {
                    SelectionKey key = it.next();
                    it.remove();
                    if (key.isAcceptable()) {
                        SocketChannel accepted = server.accept();
                        if (accepted != null) {
                            assertTrue(((ShimSocketChannel) accepted).isAccelerated(), "the connection is on the stack");
                            accepted.configureBlocking(false);
                            accepted.register(selector, SelectionKey.OP_READ);
                            before = snapshot(counters);
                        }
                    } else if (key.isReadable() && key != pipeKey) {
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
                            if (++served == REQUESTS) {
                                after = snapshot(counters);
                            }
                        }
                    }
                }
            }
            NetNs.Result ended = client.await(STEP);
            assertTrue(ended.ok(), () -> "client: " + ended);
            assertEquals("echoed " + REQUESTS, ended.stdout().trim());
            assertEquals(REQUESTS, served);
            long[] b = before;
            long[] a = after;
            assertEquals(b[0], a[0], () -> "no stall rescue while the selector served: " + counters);
            assertEquals(b[1], a[1], () -> "no interrupt service (a second thread) while the selector served: " + counters);
            // Requests that arrive while it works are found by its next poll; those that find it
            // asleep wake it (how many of each depends on the machine's speed).
            assertTrue(a[2] > b[2], () -> "the selector woke on the TAP descriptor: " + counters);

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
    void aBlockingWildcardAcceptWakesOnTheNicWithoutTheStallRescue() throws Exception {
        SlipstreamSelectorProvider provider = new SlipstreamSelectorProvider(Settings.of(Map.of()), List.of(config));
        int connections = 20;
        try (ServerSocketChannel server = provider.openServerSocketChannel()) {
            server.bind(new InetSocketAddress(PORT + 1));
            assertTrue(server.toString().contains("kernel accelerated"), server.toString());
            RuntimeCounters counters = stack.runtimeCounters();
            try (NetNs.Background client = ns.start("python3", "-c", connectScript(PORT + 1, connections))) {
                long[] before = null;
                for (int i = 0; i < connections; i++) {
                    try (SocketChannel accepted = server.accept()) {
                        assertTrue(((ShimSocketChannel) accepted).isAccelerated(), "connection " + i + " is on the stack");
                        if (before == null) {
                            before = snapshot(counters);
                        }
                        accepted.write(ByteBuffer.wrap(new byte[] {(byte) i}));
                    }
                }
                long[] after = snapshot(counters);
                NetNs.Result ended = client.await(STEP);
                assertTrue(ended.ok(), () -> "client: " + ended);
                assertEquals("connected " + connections, ended.stdout().trim());
                long[] b = before;
                assertEquals(b[0], after[0], () -> "no stall rescue while accept waited: " + counters);
                assertEquals(b[1], after[1], () -> "no interrupt service (a second thread) while accept waited: " + counters);
                assertTrue(after[2] > b[2], () -> "the accepting thread woke on the TAP descriptor: " + counters);
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

    /** Stall rescues, interrupt wakeups and the selector's NIC wakeups, now. */
    private static long[] snapshot(RuntimeCounters c) {
        return new long[] {c.get(RuntimeCounter.STALL_RESCUES), c.get(RuntimeCounter.INTERRUPT_WAKEUPS),
                c.get(RuntimeCounter.NIC_WATCH_WAKEUPS)};
    }

    /** A kernel client: REQUESTS ping-pongs of REQUEST_BYTES, each checked. */
    private static String clientScript() {
        return String.join("\n",
                "import socket, sys, time",
                "deadline = time.time() + 30",
                "while True:",
                "    try:",
                "        s = socket.create_connection(('" + STACK_IP + "', " + PORT + "), timeout=10)",
                "        break",
                "    except OSError:",
                "        if time.time() > deadline: raise",
                "        time.sleep(0.05)",
                "s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)",
                "for i in range(" + REQUESTS + "):",
                "    msg = bytes([i % 256]) * " + REQUEST_BYTES,
                "    s.sendall(msg)",
                "    got = b''",
                "    while len(got) < len(msg):",
                "        chunk = s.recv(len(msg) - len(got))",
                "        if not chunk: sys.exit('closed after %d' % i)",
                "        got += chunk",
                "    assert got == msg, 'echo %d differs' % i",
                "s.close()",
                "print('echoed', " + REQUESTS + ")");
    }
}
