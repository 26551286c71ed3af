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
import io.slipstream.ip.ArpCounter;
import io.slipstream.nic.NicCounter;
import io.slipstream.stack.Stack;
import io.slipstream.stack.StackCounter;
import io.slipstream.stack.WaitQueue;
import io.slipstream.tcp.TcpConnectOptions;
import io.slipstream.tcp.TcpCounter;
import io.slipstream.tcp.TcpLayer;
import io.slipstream.tcp.TcpListener;
import io.slipstream.testing.NetNs;
import io.slipstream.testing.VethPair;
import io.slipstream.wire.Ipv4Address;
import io.slipstream.wire.MacAddress;
import java.io.IOException;
import java.nio.ByteBuffer;
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
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A whole Slipstream stack on the XDP driver, sharing a veth end and its address with the
 * kernel: the kernel keeps ARP and ping; the flows the stack's sockets steer to it are
 * Slipstream's. A kernel TCP client downloads from a Slipstream server, and a Slipstream client
 * downloads from a kernel server, a few MB each way, checked by SHA-256; then the same with the
 * kernel peer behind a router namespace.
 *
 * <p>The stack is configured with no address: it takes the kernel's from the interface's
 * control plane. It sees no ARP (the kernel answers it for the shared address) and sends none:
 * it asks the kernel to resolve its next hops and takes their MACs from the kernel's neighbour
 * table, starting from none (each test flushes it first).
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
        Assumptions.assumeTrue(NetNs.onPath("python3") && NetNs.onPath("ethtool"),
                "needs python3 and ethtool: skipped");
        veth = VethPair.create(1);
        localIp = Ipv4Address.parse(veth.localAddress());
        peerIp = Ipv4Address.parse(veth.peerAddress());
        // The kernel starts knowing no neighbour on the interface: what the stack needs, it resolves.
        NetNs.run("ip", "neigh", "flush", "dev", veth.local()).orThrow();
        assertEquals("", kernelNeighbour(veth.peerAddress()), "no neighbour entry for the peer");
        stack = Stack.open(StackConfig.from(Settings.of(Map.of(
                "slipstream.driver", "xdp",
                "slipstream.interface", veth.local()))));
        tcp = stack.tcp();
        filters = ((XdpInterface) stack.nic()).filters();
        assertEquals(localIp, stack.address(), "the kernel's address on the interface");
        assertEquals(MacAddress.parse(veth.localMac()), stack.nic().mac(), "the stack uses the interface's MAC");
        assertEquals(-1, stack.arp().lookup(peerIp));
    }

    /** The kernel's neighbour entry for {@code address} on the local end, as {@code ip neigh} shows it ("" for none). */
    private String kernelNeighbour(String address) {
        return NetNs.run("ip", "neigh", "show", "to", address, "dev", veth.local()).orThrow().stdout().strip();
    }

    private long arpCount(ArpCounter c) {
        return stack.arp().counters().get(c);
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
        kernelClientDownloadsFromASlipstreamServer(veth.ns(), false);
        assertEquals(MacAddress.parse(veth.peerMac()), stack.arp().lookup(peerIp),
                "the kernel learnt the client from its ARP request; the stack took the MAC from the kernel");
        assertTrue(arpCount(ArpCounter.HOST_HITS) > 0);
        assertEquals(0, arpCount(ArpCounter.REQUESTS_SENT) + arpCount(ArpCounter.REPLIES_SENT), "the stack sent no ARP");
    }

    /**
     * A server that stops listening once it has its connection (one-shot servers, a server
     * shutting down) keeps serving it: the connection takes its own steering entry as the
     * listener's goes, so its segments do not fall to the kernel, which would reset them.
     */
    @Test
    void anAcceptedConnectionOutlivesItsListener() throws Exception {
        kernelClientDownloadsFromASlipstreamServer(veth.ns(), true);
        assertEquals(0, stack.tcp().counters().get(TcpCounter.RESETS_RECEIVED), "the kernel reset nothing");
    }

    /**
     * A kernel client in {@code client} downloads from a Slipstream listener on the shared
     * address; with {@code closeListenerFirst} the listener is closed as soon as it accepted.
     */
    private void kernelClientDownloadsFromASlipstreamServer(NetNs client, boolean closeListenerFirst) throws Exception {
        int port = 20000 + ThreadLocalRandom.current().nextInt(10000);
        TcpListener[] listener = new TcpListener[1];
        WaitQueue queue = BlockingConnection.listen(stack, tcp, port, 4, TcpConnectOptions.DEFAULT, listener);
        // The stack's listen steered the port to itself: no filter added by hand.
        assertTrue(filters.hasListener(XdpFilters.PROTO_TCP, localIp, port), "listen steers its port");
        byte[] body = body(1);
        CompletableFuture<Void> served = CompletableFuture.runAsync(() -> {
            try {
                BlockingConnection c = BlockingConnection.accept(stack, listener[0], queue);
                if (closeListenerFirst) {
                    stack.enter();
                    try {
                        listener[0].close();
                    } finally {
                        stack.exit();
                    }
                }
                c.write(ByteBuffer.wrap(body));
                c.close();
            } catch (IOException e) {
                throw new RuntimeException(e);
            }
        });
        NetNs.Result downloaded = client.exec(STEP, "python3", "-c", String.join("\n",
                "import socket, hashlib, sys",
                "s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=30)",
                "h = hashlib.sha256(); n = 0",
                "while True:",
                "    d = s.recv(65536)",
                "    if not d: break",
                "    h.update(d); n += len(d)",
                "print(n, h.hexdigest())"), veth.localAddress(), Integer.toString(port));
        assertTrue(downloaded.ok(), downloaded::toString);
        served.get(STEP.toSeconds(), TimeUnit.SECONDS);
        assertEquals(BODY + " " + sha256(body), downloaded.stdout().strip(), "length and SHA-256 as sent");
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
    void aSlipstreamClientDownloadsFromAKernelServerWhoseMacTheKernelResolvesForIt() throws Exception {
        slipstreamClientDownloadsFromAKernelServer(veth.ns(), veth.peerAddress());
        assertEquals(MacAddress.parse(veth.peerMac()), stack.arp().lookup(peerIp));
        assertTrue(arpCount(ArpCounter.HOST_MISSES) >= 1, "the SYN found no MAC: " + stack.arp().counters());
        assertTrue(arpCount(ArpCounter.HOST_RESOLVE_REQUESTS) >= 1, "the kernel was asked: " + stack.arp().counters());
        assertEquals(1, arpCount(ArpCounter.HOST_RESOLVED), "and resolved it: " + stack.arp().counters());
        assertEquals(0, arpCount(ArpCounter.RESOLUTION_FAILURES));
        assertTrue(kernelNeighbour(veth.peerAddress()).contains(veth.peerMac()), kernelNeighbour(veth.peerAddress()));
        assertEquals(0, arpCount(ArpCounter.REQUESTS_SENT), "the kernel's ARP request, not ours");
    }

    /** A Slipstream client downloads from a kernel server on {@code serverAddress} in {@code serverNs}. */
    private void slipstreamClientDownloadsFromAKernelServer(NetNs serverNs, String serverAddress) throws Exception {
        int port = 20000 + ThreadLocalRandom.current().nextInt(10000);
        int serverIp = Ipv4Address.parse(serverAddress);
        // Above the kernel's ephemeral range (32768..60999 by default), so no kernel socket has it.
        int localPort = 61000 + ThreadLocalRandom.current().nextInt(4000);
        NetNs.Background server = serverNs.start("python3", "-c", String.join("\n",
                "import socket, hashlib, os, sys",
                "srv = socket.socket(); srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)",
                "srv.bind((sys.argv[1], int(sys.argv[2]))); srv.listen(1); srv.settimeout(60)",
                "print('listening', flush=True)",
                "c, _ = srv.accept(); data = os.urandom(int(sys.argv[3]))",
                "c.sendall(data); c.close()",
                "print(hashlib.sha256(data).hexdigest(), flush=True)"),
                serverAddress, Integer.toString(port), Integer.toString(BODY));
        try {
            long deadline = System.nanoTime() + STEP.toNanos();
            while (!server.output().contains("listening")) {
                if (!server.isAlive() || System.nanoTime() - deadline > 0) {
                    fail("the kernel server did not start: " + server.output());
                }
                Thread.sleep(20);
            }
            BlockingConnection c = BlockingConnection.connect(stack, tcp, serverIp, port, localPort,
                    TcpConnectOptions.DEFAULT);
            // The stack's connect steered its 4-tuple to itself before the SYN: no filter added by hand.
            assertTrue(filters.hasConnection(XdpFilters.PROTO_TCP, localIp, localPort, serverIp, port), "connect steers");
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

    /**
     * The kernel peer sits behind a router: the veth's namespace forwards between the link
     * (198.19.N.0/24) and a far link (198.18.K.0/24) to a namespace of its own, and the kernel
     * here routes the far subnet via the router on the xdp interface. The stack routes as the
     * kernel does: the next hop is the router, whose MAC the kernel resolves for it. (The route
     * is the far subnet's, not a default route: these tests share the machine's own namespace,
     * whose default route is not theirs to take; the stack follows whatever route the kernel
     * has, the default route included, as the stack-core and control-plane tests show.)
     */
    @Nested
    class BehindARouter {
        private NetNs far;
        private String farAddress;
        private String farSubnet;

        @BeforeEach
        void route() throws InterruptedException {
            NetNs router = veth.ns();
            far = NetNs.create("ssfar");
            String hex = NetNs.randomHex(8);
            String routerEnd = "sf" + hex + "a";
            String farEnd = "sf" + hex + "b";
            router.exec("sysctl", "-q", "-w", "net.ipv4.ip_forward=1").orThrow();
            router.exec("ip", "link", "add", routerEnd, "type", "veth", "peer", "name", farEnd, "netns", far.name())
                    .orThrow();
            // A far subnet no other route here covers: another test's may be taken, so try a few.
            for (int attempt = 0; farSubnet == null; attempt++) {
                String subnet = "198.18." + (100 + ThreadLocalRandom.current().nextInt(100)) + ".";
                NetNs.Result added = NetNs.run("ip", "route", "add", subnet + "0/24", "via", veth.peerAddress(), "dev",
                        veth.local());
                if (added.ok()) {
                    farSubnet = subnet;
                } else if (attempt == 4) {
                    fail(added.toString());
                }
            }
            farAddress = farSubnet + "2";
            router.exec("ip", "addr", "add", farSubnet + "1/24", "dev", routerEnd).orThrow();
            router.exec("ip", "link", "set", routerEnd, "up").orThrow();
            far.exec("sysctl", "-q", "-w", "net.ipv6.conf.all.disable_ipv6=1").orThrow();
            far.exec("ethtool", "-K", farEnd, "tx", "off").orThrow(); // as VethPair's peer: full checksums
            far.exec("ip", "addr", "add", farAddress + "/24", "dev", farEnd).orThrow();
            far.exec("ip", "link", "set", farEnd, "up").orThrow();
            far.exec("ip", "route", "add", "default", "via", farSubnet + "1").orThrow();
            // The control plane follows the route the kernel just got; wait (bounded) until it has.
            int farIp = Ipv4Address.parse(farAddress);
            long deadline = System.nanoTime() + STEP.toNanos();
            while (stack.ip().routes().nextHop(farIp) != peerIp) {
                if (System.nanoTime() - deadline > 0) {
                    fail("the stack never routed " + farAddress + " via the router: "
                            + ((XdpInterface) stack.nic()).controlPlane().snapshot());
                }
                Thread.sleep(10);
            }
        }

        @AfterEach
        void unroute() {
            try {
                NetNs.run("ip", "route", "del", farSubnet + "0/24", "dev", veth.local());
            } finally {
                if (far != null) {
                    far.close();
                }
            }
        }

        @Test
        void aKernelClientBehindTheRouterDownloadsFromASlipstreamServer() throws Exception {
            kernelClientDownloadsFromASlipstreamServer(far, false);
            assertGoneThroughTheRouter();
        }

        @Test
        void aSlipstreamClientDownloadsFromAKernelServerBehindTheRouter() throws Exception {
            slipstreamClientDownloadsFromAKernelServer(far, farAddress);
            assertGoneThroughTheRouter();
            assertTrue(arpCount(ArpCounter.HOST_RESOLVE_REQUESTS) >= 1, "the kernel resolved the router for the SYN");
        }

        private void assertGoneThroughTheRouter() {
            int farIp = Ipv4Address.parse(farAddress);
            assertEquals(peerIp, stack.ip().routes().nextHop(farIp), "the kernel's route: via the router");
            assertEquals(MacAddress.parse(veth.peerMac()), stack.arp().lookup(peerIp), "the router's MAC, the kernel's");
            assertEquals(-1, stack.arp().lookup(farIp), "never a neighbour");
            assertEquals("", kernelNeighbour(farAddress));
            assertEquals(0, arpCount(ArpCounter.REQUESTS_SENT) + arpCount(ArpCounter.REPLIES_SENT));
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
