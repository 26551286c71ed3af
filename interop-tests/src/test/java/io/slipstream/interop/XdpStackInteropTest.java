package io.slipstream.interop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.slipstream.bench.BlockingConnection;
import io.slipstream.config.Settings;
import io.slipstream.config.StackConfig;
import io.slipstream.driver.xdp.XdpFilters;
import io.slipstream.driver.xdp.XdpInterface;
import io.slipstream.nic.NicCounter;
import io.slipstream.stack.Stack;
import io.slipstream.stack.StackCounter;
import io.slipstream.stack.WaitQueue;
import io.slipstream.tcp.TcpConnectOptions;
import io.slipstream.tcp.TcpLayer;
import io.slipstream.tcp.TcpListener;
import io.slipstream.testing.NetNs;
import io.slipstream.testing.VethPair;
import io.slipstream.wire.Arp;
import io.slipstream.wire.Ipv4Address;
import io.slipstream.wire.MacAddress;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A whole Slipstream stack on the XDP driver, sharing a veth end and its address with the
 * kernel: the kernel keeps ARP and ping; the flows the test adds to the driver's filters are
 * Slipstream's. A kernel TCP client downloads from a Slipstream server, and a Slipstream client
 * downloads from a kernel server, a few MB each way, checked by SHA-256.
 *
 * <p>The stack does not see ARP (the kernel answers it for the shared address), so it learns
 * the peer's MAC from the kernel's neighbour table after a kernel ping, for now; the control
 * plane will provide neighbours to the stack.
 */
@Timeout(180)
class XdpStackInteropTest {
    private static final int BODY = 4 * 1024 * 1024;
    private static final Duration STEP = Duration.ofSeconds(60);

    private VethPair veth;
    private Stack stack;
    private TcpLayer tcp;
    private XdpFilters filters;
    private int localIp;
    private int peerIp;

    @BeforeEach
    void open() throws IOException {
        Assumptions.assumeTrue(NetNs.isRoot(), "XDP tests need root (CAP_NET_ADMIN, CAP_BPF): skipped");
        Assumptions.assumeTrue(NetNs.onPath("ping") && NetNs.onPath("python3") && NetNs.onPath("ethtool"),
                "needs ping, python3 and ethtool: skipped");
        veth = VethPair.create(1);
        localIp = Ipv4Address.parse(veth.localAddress());
        peerIp = Ipv4Address.parse(veth.peerAddress());
        stack = Stack.open(StackConfig.from(Settings.of(Map.of(
                "slipstream.driver", "xdp",
                "slipstream.interface", veth.local(),
                "slipstream.address", veth.localAddress() + "/24"))));
        tcp = stack.tcp();
        filters = ((XdpInterface) stack.nic()).filters();
        assertEquals(MacAddress.parse(veth.localMac()), stack.nic().mac(), "the stack uses the interface's MAC");
        learnPeerFromTheKernel();
    }

    /** The peer pings the shared address: the kernel answers (the program passes ARP and ICMP) and learns its MAC. */
    private void learnPeerFromTheKernel() throws IOException {
        NetNs.Result ping = veth.ns().exec("ping", "-c", "1", "-W", "2", veth.localAddress());
        assertTrue(ping.ok(), ping::toString);
        long peerMac = -1;
        for (String line : Files.readAllLines(Path.of("/proc/net/arp"))) {
            String[] f = line.trim().split("\\s+");
            if (f.length >= 6 && f[0].equals(veth.peerAddress()) && f[5].equals(veth.local())) {
                peerMac = MacAddress.parse(f[3]);
            }
        }
        assertEquals(MacAddress.parse(veth.peerMac()), peerMac, "the kernel's neighbour entry");
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment reply = arena.allocate(Arp.LENGTH);
            Arp.write(reply, 0, Arp.OP_REPLY, peerMac, peerIp, stack.nic().mac(), localIp);
            stack.lock().lock();
            try {
                stack.arp().receive(reply, 0);
            } finally {
                stack.lock().unlock();
            }
        }
        assertEquals(peerMac, stack.arp().lookup(peerIp));
    }

    @AfterEach
    void close() {
        try {
            if (stack != null) {
                assertEquals(0, stack.counters().get(StackCounter.INTERNAL_ERRORS), () -> "" + stack.firstInternalError());
                stack.close();
                assertEquals(List.of(), stack.nic().buffers().leaks());
            }
        } finally {
            if (veth != null) {
                veth.close();
            }
        }
    }

    @Test
    void aKernelClientDownloadsFromASlipstreamServerOnTheSharedAddress() throws Exception {
        int port = 20000 + ThreadLocalRandom.current().nextInt(10000);
        TcpListener[] listener = new TcpListener[1];
        WaitQueue queue = BlockingConnection.listen(stack, tcp, port, 4, TcpConnectOptions.DEFAULT, listener);
        // The stack's listen steered the port to itself: no filter added by hand.
        assertTrue(filters.hasListener(XdpFilters.PROTO_TCP, localIp, port), "listen steers its port");
        byte[] body = body(1);
        CompletableFuture<Void> served = CompletableFuture.runAsync(() -> {
            try {
                BlockingConnection c = BlockingConnection.accept(stack, listener[0], queue);
                c.write(ByteBuffer.wrap(body));
                c.close();
            } catch (IOException e) {
                throw new RuntimeException(e);
            }
        });
        NetNs.Result client = veth.ns().exec(STEP, "python3", "-c", String.join("\n",
                "import socket, hashlib, sys",
                "s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=30)",
                "h = hashlib.sha256(); n = 0",
                "while True:",
                "    d = s.recv(65536)",
                "    if not d: break",
                "    h.update(d); n += len(d)",
                "print(n, h.hexdigest())"), veth.localAddress(), Integer.toString(port));
        assertTrue(client.ok(), client::toString);
        served.get(STEP.toSeconds(), TimeUnit.SECONDS);
        assertEquals(BODY + " " + sha256(body), client.stdout().strip(), "length and SHA-256 as sent");
        assertTrue(stack.nic().stats().get(NicCounter.RX_FRAMES) > 0);
        System.out.println("xdp stack server: " + stack.nic().stats());
        stack.enter();
        try {
            listener[0].close();
        } finally {
            stack.exit();
        }
        assertFalse(filters.hasListener(XdpFilters.PROTO_TCP, localIp, port), "a closed listener's port goes back to the kernel");
    }

    /** A bound UDP socket steers its port and its address's fragments to the stack until it closes. */
    @Test
    void aBoundUdpSocketIsSteeredUntilItCloses() throws Exception {
        int port = 20000 + ThreadLocalRandom.current().nextInt(10000);
        io.slipstream.udp.UdpSocket socket;
        stack.enter();
        try {
            socket = stack.udp().open();
            socket.bind(port);
        } finally {
            stack.exit();
        }
        assertTrue(filters.hasListener(XdpFilters.PROTO_UDP, localIp, port), "bind steers its port");
        assertTrue(filters.hasListener(XdpFilters.PROTO_UDP, localIp, 0), "and its address's UDP fragments");
        stack.enter();
        try {
            socket.close();
        } finally {
            stack.exit();
        }
        assertFalse(filters.hasListener(XdpFilters.PROTO_UDP, localIp, port), "close gives the port back to the kernel");
        assertFalse(filters.hasListener(XdpFilters.PROTO_UDP, localIp, 0), "and the fragments, with no UDP socket left");
    }

    @Test
    void aSlipstreamClientDownloadsFromAKernelServer() throws Exception {
        int port = 20000 + ThreadLocalRandom.current().nextInt(10000);
        // Above the kernel's ephemeral range (32768..60999 by default), so no kernel socket has it.
        int localPort = 61000 + ThreadLocalRandom.current().nextInt(4000);
        NetNs.Background server = veth.ns().start("python3", "-c", String.join("\n",
                "import socket, hashlib, os, sys",
                "srv = socket.socket(); srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)",
                "srv.bind((sys.argv[1], int(sys.argv[2]))); srv.listen(1); srv.settimeout(60)",
                "print('listening', flush=True)",
                "c, _ = srv.accept(); data = os.urandom(int(sys.argv[3]))",
                "c.sendall(data); c.close()",
                "print(hashlib.sha256(data).hexdigest(), flush=True)"),
                veth.peerAddress(), Integer.toString(port), Integer.toString(BODY));
        try {
            long deadline = System.nanoTime() + STEP.toNanos();
            while (!server.output().contains("listening")) {
                if (!server.isAlive() || System.nanoTime() - deadline > 0) {
                    fail("the kernel server did not start: " + server.output());
                }
                Thread.sleep(20);
            }
            BlockingConnection c = BlockingConnection.connect(stack, tcp, peerIp, port, localPort,
                    TcpConnectOptions.DEFAULT);
            // The stack's connect steered its 4-tuple to itself before the SYN: no filter added by hand.
            assertTrue(filters.hasConnection(XdpFilters.PROTO_TCP, localIp, localPort, peerIp, port), "connect steers");
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            ByteBuffer in = ByteBuffer.allocate(64 * 1024);
            long received = 0;
            for (int n = c.read(in); n >= 0; n = c.read(in)) {
                in.flip();
                sha.update(in);
                in.clear();
                received += n;
            }
            c.close();
            NetNs.Result r = server.await(STEP);
            assertTrue(r.ok(), r::toString);
            assertEquals(BODY, received);
            assertEquals(r.stdout().lines().toList().getLast(), HexFormat.of().formatHex(sha.digest()));
            // Gone when the connection is (after TIME-WAIT), or at the latest when the stack closes.
        } finally {
            server.close();
        }
    }

    private static byte[] body(long seed) {
        byte[] b = new byte[BODY];
        new SplittableRandom(seed).nextBytes(b);
        return b;
    }

    private static String sha256(byte[] b) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
    }
}
