package io.slipstream.shim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.slipstream.config.Settings;
import io.slipstream.config.StackConfig;
import io.slipstream.relay.Impairment;
import io.slipstream.relay.ImpairmentRelay;
import io.slipstream.relay.RelayLab;
import io.slipstream.stack.Stack;
import io.slipstream.tcp.TcpCounter;
import io.slipstream.testing.NetNs;
import io.slipstream.testing.StackChecks;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
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
 * An event-loop echo server on Slipstream's java.nio provider, on a TAP stack behind the
 * impairment relay (no impairment; 198.19.32.0/24), serves the kernel in the peer namespace:
 * 500 connections open at once all echo, and an established connection keeps echoing through
 * a bounded SYN flood from spoofed addresses of the lab's subnet (20,000 SYNs at 10,000/s),
 * whose longest pause is measured and printed, not asserted: the rules allow no timed assertion,
 * and on a shared 2-core host one would fail for the host's reasons too. Issue 13 wants it under
 * 100 ms. On 2026-12-03 it was 0.5 s with a backlog of 128 and 2–6 s with 1024 while every SYN
 * under the half-open limit allocated and zeroed the connection's 512 KiB of buffers in an arena
 * of its own; with the rings taken only when a handshake completes (RingMemory), 82 ms and 15 ms
 * in two runs at 128, 14 ms in one at 1024.
 */
@Timeout(240)
class RelayedEchoServerTest {
    private static final int PORT = 7200;
    private static final int CONNECTIONS = 500;
    private static final int FLOOD_SYNS = 20_000;
    private static final int FLOOD_PER_SECOND = 10_000;
    /** The listen backlog under the flood: Slipstream's half-open limit before SYN cookies (slipstream.tcp.syn.backlog). */
    private static final int FLOOD_BACKLOG = 128;
    private static final Duration STEP = Duration.ofSeconds(120);

    private RelayLab lab;
    private Stack stack;
    private ImpairmentRelay relay;
    private SlipstreamSelectorProvider provider;
    private EchoLoop echo;

    @BeforeEach
    void open() throws IOException {
        NetNs.assumeRootWith("relayed TAP tests need root (namespaces, TAP, AF_PACKET): skipped", "python3", "ethtool");
        lab = RelayLab.create(2);
        String device = "rlye" + NetNs.randomHex(8);
        StackConfig config = StackConfig.from(Settings.of(Map.of(
                "slipstream.driver", "tap",
                "slipstream.interface", device,
                "slipstream.address", lab.slipstreamCidr())));
        stack = ShimStacks.get(config).stack();
        lab.adoptTap(device);
        relay = lab.relayTap(device, Impairment.NONE, Impairment.NONE, 1);
        provider = new SlipstreamSelectorProvider(Settings.of(Map.of()), List.of(config));
    }

    private void startEcho(int backlog) throws IOException {
        echo = EchoLoop.start(provider, new InetSocketAddress(lab.slipstreamAddress(), PORT), backlog);
    }

    @AfterEach
    void close() throws Exception {
        try {
            if (echo != null) {
                echo.close();
            }
            if (relay != null) {
                relay.close();
            }
        } finally {
            StackChecks.closeChecked(stack, lab);
        }
    }

    @Test
    void fiveHundredConcurrentKernelConnectionsAllEcho() throws IOException {
        startEcho(1024); // a server sized for its 500 clients
        NetNs.Result r = lab.peer().exec(STEP, "python3", "-c", CONCURRENT_CLIENTS, lab.slipstreamAddress(),
                Integer.toString(PORT), Integer.toString(CONNECTIONS));
        System.out.println("500 connections: " + r.stdout().strip() + "; most open at once on the server "
                + echo.mostOpen() + "; tcp " + stack.tcp().counters() + "; relay " + relay.describe());
        assertTrue(r.ok(), r::toString);
        assertEquals("ok " + CONNECTIONS, r.stdout().lines().findFirst().orElse(""), r::toString);
        assertEquals(CONNECTIONS, echo.accepted());
        assertEquals(CONNECTIONS, echo.mostOpen(), "every connection was open at the same time");
        assertEquals(0, echo.failures(), "the server loop failed on no connection");
    }

    @Test
    void anEstablishedConnectionKeepsEchoingThroughABoundedSynFlood() throws Exception {
        startEcho(FLOOD_BACKLOG);
        try (NetNs.Background pinger = lab.peer().start("python3", "-c", PINGER, lab.slipstreamAddress(),
                Integer.toString(PORT), "8")) {
            Thread.sleep(2_000); // a baseline before the flood
            NetNs.Result flood = lab.peer().exec(STEP, "python3", "-c", SYN_FLOOD, lab.slipstreamAddress(),
                    Integer.toString(PORT), Integer.toString(FLOOD_SYNS), lab.slipstreamAddress().replaceAll("\\d+$", ""),
                    Integer.toString(FLOOD_PER_SECOND));
            assertTrue(flood.ok(), flood::toString);
            String[] window = flood.stdout().strip().split(" "); // "sent N FROM_NS TO_NS"
            long floodStart = Long.parseLong(window[2]);
            long floodEnd = Long.parseLong(window[3]);
            NetNs.Result pings = pinger.await(STEP);
            assertTrue(pings.ok(), pings::toString);
            long worstBefore = 0;
            long worstDuring = 0;
            int during = 0;
            int total = 0;
            for (String line : pings.stdout().lines().toList()) {
                String[] f = line.split(" ");
                long at = Long.parseLong(f[0]);
                long rtt = Long.parseLong(f[1]);
                total++;
                if (at < floodStart) {
                    worstBefore = Math.max(worstBefore, rtt);
                } else if (at <= floodEnd) {
                    worstDuring = Math.max(worstDuring, rtt);
                    during++;
                }
            }
            var tcp = stack.tcp().counters();
            System.out.printf("SYN flood: %s SYNs in %.2f s; %d echoes in all, %d during the flood; longest pause "
                    + "(round trip) before it %.1f ms, during it %.1f ms; tcp %s; nic %s; stack %s; arp %s; relay %s;"
                    + " the TAP's kernel side: %s%n", window[1],
                    (floodEnd - floodStart) / 1e9, total, during, worstBefore / 1e6, worstDuring / 1e6, tcp,
                    stack.nic().stats(), stack.counters(), stack.arp().counters(), relay.describe(),
                    lab.relayNamespace().exec("ip", "-s", "link", "show", stack.nic().name()).stdout());
            assertTrue(during > 0, "the connection echoed during the flood");
            assertTrue(tcp.get(TcpCounter.SYN_COOKIES_SENT) > 0, () -> "the flood reached the listener: " + tcp);
            assertEquals(0, echo.failures());
        }
    }

    /**
     * argv[3] kernel connections to argv[1]:argv[2], each opened, echoing a message, then
     * waiting until all are open and echoed before it closes: prints "ok N" and any errors.
     */
    private static final String CONCURRENT_CLIENTS = String.join("\n",
            "import socket, sys, threading",
            "n = int(sys.argv[3]); addr = (sys.argv[1], int(sys.argv[2]))",
            "barrier = threading.Barrier(n, timeout=90); ok = [False] * n; errors = []",
            "def run(i):",
            "    try:",
            "        s = socket.create_connection(addr, timeout=60)",
            "        msg = b'connection %05d ' % i + bytes(range(32))",
            "        s.sendall(msg); got = b''",
            "        while len(got) < len(msg):",
            "            d = s.recv(len(msg) - len(got))",
            "            if not d: raise EOFError('closed by the server')",
            "            got += d",
            "        if got != msg: raise ValueError('echo differs')",
            "        barrier.wait()",
            "        s.close(); ok[i] = True",
            "    except Exception as e:",
            "        errors.append('%d: %r' % (i, e)); barrier.abort()",
            "ts = [threading.Thread(target=run, args=(i,)) for i in range(n)]",
            "for t in ts: t.start()",
            "for t in ts: t.join()",
            "print('ok', sum(ok))",
            "for e in errors[:5]: print(e)");

    /**
     * One connection to argv[1]:argv[2] echoing 32 bytes about every millisecond for argv[3]
     * seconds: prints "START_NS RTT_NS" per round trip (CLOCK_MONOTONIC, as the flood's).
     */
    private static final String PINGER = String.join("\n",
            "import socket, sys, time",
            "s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=10)",
            "s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)",
            "end = time.monotonic() + float(sys.argv[3]); out = []; i = 0",
            "while time.monotonic() < end:",
            "    msg = b'%032d' % i; t0 = time.monotonic_ns(); s.sendall(msg); got = b''",
            "    while len(got) < 32:",
            "        d = s.recv(32 - len(got))",
            "        if not d: raise EOFError('closed by the server')",
            "        got += d",
            "    t1 = time.monotonic_ns()",
            "    if got != msg: raise ValueError('echo differs at %d' % i)",
            "    out.append('%d %d' % (t0, t1 - t0)); i += 1",
            "    time.sleep(0.001)",
            "s.close()",
            "print('\\n'.join(out))");

    /**
     * argv[3] SYNs to argv[1]:argv[2] from spoofed addresses argv[4].100-199 (the lab's own
     * subnet, where nobody answers for them), random ports and sequence numbers, argv[5] per
     * second, through a raw socket: prints "sent N START_NS END_NS".
     */
    private static final String SYN_FLOOD = String.join("\n",
            "import socket, struct, random, sys, time",
            "dst = sys.argv[1]; dport = int(sys.argv[2]); count = int(sys.argv[3]); rate = int(sys.argv[5])",
            "def csum(b):",
            "    if len(b) % 2: b += b'\\0'",
            "    t = sum(struct.unpack('!%dH' % (len(b) // 2), b))",
            "    while t >> 16: t = (t & 0xffff) + (t >> 16)",
            "    return ~t & 0xffff",
            "rnd = random.Random(7); pkts = []; d = socket.inet_aton(dst)",
            "for i in range(count):",
            "    src = socket.inet_aton(sys.argv[4] + str(100 + rnd.randrange(100)))",
            "    tcp = struct.pack('!HHIIBBHHH', 1024 + rnd.randrange(60000), dport, rnd.getrandbits(32), 0, 5 << 4, 0x02, 65535, 0, 0)",
            "    c = csum(src + d + struct.pack('!BBH', 0, 6, len(tcp)) + tcp)",
            "    tcp = tcp[:16] + struct.pack('!H', c) + tcp[18:]",
            "    ip = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(tcp), rnd.getrandbits(16), 0, 64, 6, 0, src, d)",
            "    pkts.append(ip + tcp)",
            "s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)",
            "start = time.monotonic_ns()",
            "for i, p in enumerate(pkts):",
            "    s.sendto(p, (dst, 0))",
            "    if i % 100 == 99:",
            "        ahead = start + (i + 1) * 1e9 / rate - time.monotonic_ns()",
            "        if ahead > 0: time.sleep(ahead / 1e9)",
            "print('sent', count, start, time.monotonic_ns())");

    /** The echo server: one thread, one selector, as an event-loop framework runs one. */
    private static final class EchoLoop implements AutoCloseable {
        private final Selector selector;
        private final ServerSocketChannel server;
        private final Thread thread;
        private volatile boolean running = true;
        private volatile int accepted;
        private volatile int open;
        private volatile int mostOpen;
        private volatile int failures;

        private EchoLoop(Selector selector, ServerSocketChannel server) {
            this.selector = selector;
            this.server = server;
            this.thread = Thread.ofPlatform().name("relayed-echo").start(this::run);
        }

        static EchoLoop start(SlipstreamSelectorProvider provider, InetSocketAddress at, int backlog) throws IOException {
            Selector selector = provider.openSelector();
            ServerSocketChannel server = provider.openServerSocketChannel();
            server.bind(at, backlog);
            server.configureBlocking(false);
            server.register(selector, SelectionKey.OP_ACCEPT);
            return new EchoLoop(selector, server);
        }

        int accepted() {
            return accepted;
        }

        int mostOpen() {
            return mostOpen;
        }

        int failures() {
            return failures;
        }

        private void run() {
            try {
                while (running) {
                    selector.select(100);
                    for (Iterator<SelectionKey> it = selector.selectedKeys().iterator(); it.hasNext(); ) {
                        SelectionKey key = it.next();
                        it.remove();
                        try {
                            handle(key);
                        } catch (IOException e) {
                            failures++;
                            key.cancel();
                            key.channel().close();
                        }
                    }
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        private void handle(SelectionKey key) throws IOException {
            if (key.isAcceptable()) {
                for (SocketChannel ch = server.accept(); ch != null; ch = server.accept()) {
                    assertTrue(((ShimSocketChannel) ch).isAccelerated(), "the connection is on the stack");
                    ch.configureBlocking(false);
                    ch.register(selector, SelectionKey.OP_READ, ByteBuffer.allocate(4096));
                    accepted++;
                    mostOpen = Math.max(mostOpen, ++open);
                }
            } else if (key.isReadable() && key.attachment() instanceof ByteBuffer buffer) {
                SocketChannel ch = (SocketChannel) key.channel();
                if (ch.read(buffer) < 0) {
                    open--;
                    key.cancel();
                    ch.close();
                    return;
                }
                buffer.flip();
                for (int i = 0; i < 1_000 && buffer.hasRemaining(); i++) {
                    ch.write(buffer); // small messages fit the send buffer: the bound is never reached
                }
                if (buffer.hasRemaining()) {
                    throw new IOException("the echo did not fit the send buffer");
                }
                buffer.clear();
            }
        }

        @Override
        public void close() throws Exception {
            running = false;
            thread.join(10_000);
            for (SelectionKey key : selector.keys()) {
                key.channel().close();
            }
            selector.close();
        }
    }
}
