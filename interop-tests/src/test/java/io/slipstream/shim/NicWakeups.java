package io.slipstream.shim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * What the tests of a thread that waits on the NICs itself share (a mixed selector, a wildcard
 * accept; TAP and xdp alike): the settings that make every wake-up count, an event-loop echo
 * server, kernel clients, and the assertion that the stack's frames reached the waiting thread
 * through its own watch of the NIC, not through the stall rescue nor a second thread.
 */
final class NicWakeups {
    static final int REQUEST_BYTES = 64;
    static final Duration STEP = Duration.ofSeconds(60);

    private NicWakeups() {}

    /**
     * Waiting threads never spin ({@code slipstream.poll.usec=0}), so each frame that finds one
     * idle must wake it from its sleep; a rescue needs an event to wait 200 ms unpolled: a thread
     * that a busy machine (a load of several per core) schedules late does not make one, a
     * thread nobody wakes does.
     */
    static final Map<String, String> NEVER_SPIN = Map.of(
            "slipstream.poll.usec", "0",
            "slipstream.stall.usec", "200000",
            "slipstream.interrupt.overflow.usec", "200000");

    /**
     * A selector holding a listener on {@code stack} at {@code address}:{@code port} and a pipe's
     * source (a kernel channel, as frameworks register beside their listener) serves a kernel
     * client in {@code clientNs} {@code requests} echoes, which reach it through its own watch of
     * the stack's NIC ({@link #assertWokeOnTheNic}); then the pipe's readiness is reported too.
     */
    static void echoBesideAPipe(SlipstreamSelectorProvider provider, Stack stack, NetNs clientNs, String address,
            int port, int requests) throws Exception {
        Pipe pipe = provider.openPipe();
        try (Selector selector = provider.openSelector();
                ServerSocketChannel server = provider.openServerSocketChannel();
                NetNs.Background client = clientNs.start("python3", "-c", echoScript(List.of(address), port, requests))) {
            server.bind(new InetSocketAddress(address, port));
            assertTrue(server.toString().contains("accelerated"), server.toString());
            server.configureBlocking(false);
            server.register(selector, SelectionKey.OP_ACCEPT);
            pipe.source().configureBlocking(false);
            SelectionKey pipeKey = pipe.source().register(selector, SelectionKey.OP_READ);

            long[][] before = new long[1][];
            long[][] after = new long[1][];
            int served = serveEcho(selector, 1, requests, List.of(stack), before, after, List.of(client));
            NetNs.Result ended = client.await(STEP);
            assertTrue(ended.ok(), () -> "client: " + ended);
            assertEquals("echoed " + requests, ended.stdout().trim());
            assertEquals(requests, served);
            assertWokeOnTheNic(stack, before[0], after[0]);

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

    /**
     * One selector holding a listener on each of {@code stacks} (at the matching one of
     * {@code addresses}, {@code port}) serves one kernel client in {@code clientNs} whose
     * {@code each} rounds alternate between them: each request finds the selector asleep more
     * often than not and must wake it through its own stack's NIC ({@link #assertWokeOnTheNic},
     * for every stack).
     */
    static void echoOverStacks(SlipstreamSelectorProvider provider, List<Stack> stacks, List<String> addresses,
            NetNs clientNs, int port, int each) throws Exception {
        int n = stacks.size();
        List<ServerSocketChannel> servers = new ArrayList<>();
        try (Selector selector = provider.openSelector();
                NetNs.Background client = clientNs.start("python3", "-c", echoScript(addresses, port, each))) {
            for (String address : addresses) {
                ServerSocketChannel server = provider.openServerSocketChannel();
                servers.add(server);
                server.bind(new InetSocketAddress(address, port));
                server.configureBlocking(false);
                server.register(selector, SelectionKey.OP_ACCEPT);
            }
            long[][] before = new long[n][];
            long[][] after = new long[n][];
            int served = serveEcho(selector, n, n * each, stacks, before, after, List.of(client));
            NetNs.Result ended = client.await(STEP);
            assertTrue(ended.ok(), () -> "client: " + ended + "\nthe stacks' counters: "
                    + stacks.stream().map(Stack::nonZeroCounters).toList());
            assertEquals("echoed " + each, ended.stdout().trim());
            assertEquals(n * each, served);
            for (int i = 0; i < n; i++) {
                assertWokeOnTheNic(stacks.get(i), before[i], after[i]);
            }
        } finally {
            for (ServerSocketChannel server : servers) {
                server.close();
            }
        }
    }

    /**
     * An event loop as frameworks write one: accepts on the selector's listeners and echoes each
     * connection's requests of REQUEST_BYTES, until {@code requests} were served, the time ran out
     * or every client ended. Snapshots each stack's counters once {@code connections} are accepted
     * ({@code before}) and at the last request ({@code after}). Returns the requests served.
     */
    static int serveEcho(Selector selector, int connections, int requests, List<Stack> stacks,
            long[][] before, long[][] after, List<NetNs.Background> clients) throws Exception {
        int accepted = 0;
        int served = 0;
        long deadline = System.nanoTime() + STEP.toNanos();
        while (served < requests && System.nanoTime() - deadline < 0 && clients.stream().anyMatch(NetNs.Background::isAlive)) {
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
     * Between the snapshots the stack's frames reached the waiting thread through its own watch
     * of the NIC's descriptors: no stall rescue, no interrupt service (a second thread). Frames
     * that arrive while it works are found by its next poll; those that find it asleep wake it
     * (how many of each depends on the machine's speed).
     */
    static void assertWokeOnTheNic(Stack s, long[] b, long[] a) {
        RuntimeCounters counters = s.runtimeCounters();
        assertEquals(b[0], a[0], () -> "no stall rescue while the thread waited: " + counters);
        assertEquals(b[1], a[1], () -> "no interrupt service (a second thread) while the thread waited: " + counters);
        assertTrue(a[2] > b[2], () -> "the thread woke on the NIC's descriptors: " + counters);
    }

    /** Each stack's stall rescues, interrupt wakeups and NIC-watch wakeups, now, into {@code into}. */
    static void snapshot(List<Stack> stacks, long[][] into) {
        for (int i = 0; i < stacks.size(); i++) {
            RuntimeCounters c = stacks.get(i).runtimeCounters();
            into[i] = new long[] {c.get(RuntimeCounter.STALL_RESCUES), c.get(RuntimeCounter.INTERRUPT_WAKEUPS),
                    c.get(RuntimeCounter.NIC_WATCH_WAKEUPS)};
        }
    }

    /**
     * A kernel client: {@code n} connections to {@code server}:{@code port} one after the other,
     * each reading the server's one byte, {@code i} for the i-th.
     */
    static String connectScript(String server, int port, int n) {
        return String.join("\n",
                "import socket, sys, time",
                "for i in range(" + n + "):",
                "    deadline = time.time() + 30",
                "    while True:",
                "        try:",
                "            s = socket.create_connection(('" + server + "', " + port + "), timeout=10)",
                "            break",
                "        except OSError:",
                "            if time.time() > deadline: raise",
                "            time.sleep(0.05)",
                "    got = s.recv(1)",
                "    assert got == bytes([i % 256]), 'connection %d got %r' % (i, got)",
                "    s.close()",
                "    time.sleep(0.005)",
                "print('connected', " + n + ")");
    }

    /**
     * A kernel client: one connection to each of {@code servers} on {@code port}, then
     * {@code requests} rounds of one ping-pong of REQUEST_BYTES on each connection in turn, each
     * checked, 2 ms apart: the server has gone back to sleep by the next round's first request,
     * which must wake it (back to back, a server that a loaded machine schedules late finds each
     * request already there and may never sleep at all).
     */
    static String echoScript(List<String> servers, int port, int requests) {
        return String.join("\n",
                "import socket, sys, time",
                "conns = []",
                "for server in " + servers.stream().map(a -> "'" + a + "'").toList() + ":",
                "    deadline = time.time() + 30",
                "    while True:",
                "        try:",
                "            s = socket.create_connection((server, " + port + "), timeout=10)",
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
                "    time.sleep(0.002)",
                "for s in conns:",
                "    s.close()",
                "print('echoed', " + requests + ")");
    }
}
