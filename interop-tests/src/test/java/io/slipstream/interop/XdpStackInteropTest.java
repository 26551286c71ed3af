package io.slipstream.interop;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.slipstream.bench.BlockingConnection;
import io.slipstream.testing.StackChecks;
import io.slipstream.config.Settings;
import io.slipstream.config.StackConfig;
import io.slipstream.driver.xdp.XdpFilters;
import io.slipstream.driver.xdp.XdpInterface;
import io.slipstream.ip.ArpCounter;
import io.slipstream.nic.NicCounter;
import io.slipstream.relay.RelayTransfers;
import io.slipstream.stack.Stack;
import io.slipstream.stack.WaitQueue;
import io.slipstream.tcp.AddressInUseException;
import io.slipstream.tcp.TcpConnectOptions;
import io.slipstream.tcp.TcpConnection;
import io.slipstream.tcp.TcpCounter;
import io.slipstream.tcp.TcpLayer;
import io.slipstream.tcp.TcpListener;
import io.slipstream.testing.KernelPorts;
import io.slipstream.testing.NetNs;
import io.slipstream.testing.VethPair;
import io.slipstream.udp.UdpSocket;
import io.slipstream.wire.Ipv4Address;
import io.slipstream.wire.MacAddress;
import java.io.IOException;
import java.net.BindException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
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
 * Slipstream's, and their ports are held in the kernel, so no kernel program gets them. A
 * kernel TCP client downloads from a Slipstream server, and a Slipstream client downloads from
 * a kernel server, a few MB each way, checked by SHA-256; then the same with the kernel peer
 * behind a router namespace; over two receive queues, every flow arrives whole.
 *
 * <p>The stack is configured with no address: it takes the kernel's from the interface's
 * control plane. It sees no ARP (the kernel answers it for the shared address) and sends none:
 * it asks the kernel to resolve its next hops and takes their MACs from the kernel's neighbour
 * table, starting from none (each test flushes it first).
 */
@Timeout(180)
class XdpStackInteropTest {
    private static final int BODY = 4 * 1024 * 1024;
    private static final int SMALL_BODY = 256 * 1024;
    private static final Duration STEP = Duration.ofSeconds(60);

    private VethPair veth;
    private Stack stack;
    private TcpLayer tcp;
    private XdpFilters filters;
    private int localIp;
    private InetAddress localInet;
    private int peerIp;

    @BeforeEach
    void open() throws IOException {
        Assumptions.assumeTrue(NetNs.isRoot(), "XDP tests need root (CAP_NET_ADMIN, CAP_BPF): skipped");
        Assumptions.assumeTrue(NetNs.onPath("python3") && NetNs.onPath("ethtool"),
                "needs python3 and ethtool: skipped");
        open(1);
    }

    /** A veth pair with {@code queues} queues each way, and a stack on its local end. */
    private void open(int queues) throws IOException {
        veth = VethPair.create(queues);
        localIp = Ipv4Address.parse(veth.localAddress());
        localInet = InetAddress.getByName(veth.localAddress());
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
    void close() throws Exception {
        StackChecks.closeChecked(stack, veth); // a fresh instance per test: the fields need no reset
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
        assertEquals("listener false, connection true, held true, kernel binds []",
                kernelClientDownloadsFromASlipstreamServer(veth.ns(), true),
                "steered by its own 4-tuple, the port still held (a kernel program cannot take it) while it lives");
        assertEquals(0, stack.tcp().counters().get(TcpCounter.RESETS_RECEIVED), "the kernel reset nothing");
    }

    /**
     * A kernel client in {@code client} downloads from a Slipstream listener on the shared
     * address; with {@code closeListenerFirst} the listener is closed as soon as it accepted.
     * Returns how the connection's steering and port stood just after the listener closed
     * ("listener L, connection C, held H, kernel binds [the ways a kernel program could bind
     * the port]"), or "" when it did not close first.
     */
    private String kernelClientDownloadsFromASlipstreamServer(NetNs client, boolean closeListenerFirst) throws Exception {
        int port = 20000 + ThreadLocalRandom.current().nextInt(10000);
        TcpListener[] listener = new TcpListener[1];
        WaitQueue queue = BlockingConnection.listen(stack, tcp, port, 4, TcpConnectOptions.DEFAULT, listener);
        // The stack's listen steered the port to itself: no filter added by hand.
        assertTrue(filters.hasListener(XdpFilters.PROTO_TCP, localIp, port), "listen steers its port");
        byte[] body = RelayTransfers.body(BODY, 1);
        CompletableFuture<String> served = CompletableFuture.supplyAsync(() -> {
            try {
                BlockingConnection c = BlockingConnection.accept(stack, listener[0], queue);
                String after = "";
                if (closeListenerFirst) {
                    stack.enter();
                    try {
                        listener[0].close();
                    } finally {
                        stack.exit();
                    }
                    TcpConnection conn = c.connection();
                    after = "listener " + filters.hasListener(XdpFilters.PROTO_TCP, localIp, port)
                            + ", connection " + filters.hasConnection(XdpFilters.PROTO_TCP, localIp, port,
                                    conn.remoteAddress(), conn.remotePort())
                            + ", held " + filters.isHeld(XdpFilters.PROTO_TCP, localIp, port)
                            + ", kernel binds " + KernelPorts.tcpBinds(localInet, port);
                }
                c.write(ByteBuffer.wrap(body));
                c.close();
                return after;
            } catch (IOException e) {
                throw new RuntimeException(e);
            }
        });
        NetNs.Result downloaded = client.exec(STEP, "python3", "-c", KernelTransfers.DOWNLOAD, veth.localAddress(),
                Integer.toString(port), "1");
        assertTrue(downloaded.ok(), downloaded::toString);
        String after = served.get(STEP.toSeconds(), TimeUnit.SECONDS);
        assertEquals(BODY + " " + RelayTransfers.sha256(body), downloaded.stdout().strip(), "length and SHA-256 as sent");
        assertTrue(stack.nic().stats().get(NicCounter.RX_FRAMES) > 0);
        System.out.println("xdp stack server: " + stack.nic().stats());
        stack.enter();
        try {
            listener[0].close();
        } finally {
            stack.exit();
        }
        assertFalse(filters.hasListener(XdpFilters.PROTO_TCP, localIp, port), "a closed listener's port goes back to the kernel");
        return after;
    }

    /** A bound UDP socket steers its port and its address's fragments to the stack until it closes. */
    @Test
    void aBoundUdpSocketIsSteeredUntilItCloses() throws Exception {
        int port = 20000 + ThreadLocalRandom.current().nextInt(10000);
        UdpSocket socket;
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
        NetNs.Background server = KernelTransfers.startServer(serverNs, serverAddress, port, BODY, STEP);
        try {
            BlockingConnection c = BlockingConnection.connect(stack, tcp, serverIp, port, 0, TcpConnectOptions.DEFAULT);
            // The stack's connect steered its 4-tuple to itself before the SYN: no filter added by hand.
            int localPort = c.connection().localPort();
            assertTrue(filters.hasConnection(XdpFilters.PROTO_TCP, localIp, localPort, serverIp, port), "connect steers");
            // Its ephemeral port is one the kernel chose and holds: no kernel socket has it or will get it.
            int[] range = KernelPorts.ephemeralRange();
            assertTrue(localPort >= range[0] && localPort <= range[1],
                    () -> localPort + " outside the kernel's range " + range[0] + ".." + range[1]);
            assertTrue(filters.isHeld(XdpFilters.PROTO_TCP, localIp, localPort));
            assertEquals(List.of(), KernelPorts.tcpBinds(localInet, localPort));
            String received = KernelTransfers.readToEnd(c);
            NetNs.Result r = server.await(STEP);
            assertTrue(r.ok(), r::toString);
            assertEquals(BODY + " " + r.stdout().lines().toList().getLast(), received);
            // Gone when the connection is (after TIME-WAIT), or at the latest when the stack closes.
        } finally {
            server.close();
        }
    }

    /**
     * A listener's and a bound UDP socket's ports are held in the kernel while they are open: a
     * kernel program's bind of them fails with EADDRINUSE however it asks (on the address or the
     * wildcard, with SO_REUSEADDR or SO_REUSEPORT), and succeeds once they close.
     */
    @Test
    void aKernelProgramCannotBindAPortASlipstreamSocketHolds() throws Exception {
        int tcpPort = 20000 + ThreadLocalRandom.current().nextInt(10000);
        int udpPort = tcpPort + 1;
        TcpListener[] listener = new TcpListener[1];
        BlockingConnection.listen(stack, tcp, tcpPort, 4, TcpConnectOptions.DEFAULT, listener);
        UdpSocket udp;
        stack.enter();
        try {
            udp = stack.udp().open();
            udp.bind(udpPort);
        } finally {
            stack.exit();
        }
        assertTrue(filters.isHeld(XdpFilters.PROTO_TCP, localIp, tcpPort));
        assertTrue(filters.isHeld(XdpFilters.PROTO_UDP, localIp, udpPort));
        assertEquals(List.of(), KernelPorts.tcpBinds(localInet, tcpPort), "the listener's port");
        assertEquals(List.of(), KernelPorts.udpBinds(localInet, udpPort), "the UDP socket's port");

        stack.enter();
        try {
            listener[0].close();
            udp.close();
        } finally {
            stack.exit();
        }
        assertEquals(0, filters.heldPorts());
        assertEquals(KernelPorts.EVERY_WAY, KernelPorts.tcpBinds(localInet, tcpPort), "the kernel's again");
        assertEquals(KernelPorts.EVERY_WAY, KernelPorts.udpBinds(localInet, udpPort));
    }

    /**
     * A port a kernel program has (on the shared address, or on every address) is refused to
     * listen, connect and bind as the JDK refuses an address in use, and nothing is left steered
     * or held.
     */
    @Test
    void aPortAKernelProgramHasIsRefusedAndNothingIsSteered() throws Exception {
        try (KernelPorts.Taken taken = KernelPorts.Taken.on(localInet)) {
            int a = taken.tcp();
            int every = taken.tcpOnEveryAddress();
            int u = taken.udp();
            stack.enter();
            try {
                AddressInUseException e = assertThrows(AddressInUseException.class, () -> tcp.listen(a, 4));
                assertEquals("TCP port " + a + " of " + veth.localAddress()
                        + " is held outside the stack: another program's kernel socket has it", e.getMessage());
                assertThrows(AddressInUseException.class, () -> tcp.listen(every, 4), "a wildcard bind covers it");
                assertThrows(AddressInUseException.class,
                        () -> tcp.connect(peerIp, 9, a, TcpConnectOptions.DEFAULT), "nor may a connection start from it");
                UdpSocket s = stack.udp().open();
                BindException b = assertThrows(BindException.class, () -> s.bind(u));
                assertTrue(b.getMessage().startsWith("Address already in use: UDP port " + u), b.getMessage());
                s.close();
            } finally {
                stack.exit();
            }
            assertFalse(filters.hasListener(XdpFilters.PROTO_TCP, localIp, a));
            assertFalse(filters.hasListener(XdpFilters.PROTO_TCP, localIp, every));
            assertFalse(filters.hasListener(XdpFilters.PROTO_UDP, localIp, u));
            assertEquals(0, filters.connectionEntries());
            assertEquals(0, filters.heldPorts());
            assertEquals(0, tcp.connectionCount());
        }
    }

    /**
     * A listener whose port its caller holds already (the shim's wildcard listener: a kernel
     * listener on every address at the port) is steered without a hold of its own: the kernel
     * listener would refuse one. Connections to the shared address reach Slipstream, not the
     * kernel listener beside it.
     */
    @Test
    void aListenerBesideTheCallersOwnWildcardKernelListenerIsSteeredWithoutAHold() throws Exception {
        try (ServerSocketChannel kernelListener = ServerSocketChannel.open()) {
            kernelListener.bind(new InetSocketAddress(0));
            kernelListener.configureBlocking(false);
            int port = kernelListener.socket().getLocalPort();
            TcpListener listener;
            WaitQueue queue = stack.newWaitQueue();
            stack.enter();
            try {
                listener = tcp.listen(port, 4, TcpConnectOptions.DEFAULT, true);
                listener.readinessListener(l -> queue.wakeAll());
            } finally {
                stack.exit();
            }
            assertTrue(filters.hasListener(XdpFilters.PROTO_TCP, localIp, port));
            assertFalse(filters.isHeld(XdpFilters.PROTO_TCP, localIp, port), "the caller's kernel listener holds it");
            CompletableFuture<Void> served = CompletableFuture.runAsync(() -> {
                try {
                    BlockingConnection c = BlockingConnection.accept(stack, listener, queue);
                    c.write(ByteBuffer.wrap("from slipstream\n".getBytes(StandardCharsets.US_ASCII)));
                    c.close();
                } catch (IOException e) {
                    throw new RuntimeException(e);
                }
            });
            NetNs.Result client = veth.ns().exec(STEP, "bash", "-c", "exec 3<>/dev/tcp/" + veth.localAddress() + "/"
                    + port + " && read -t 10 line <&3 && echo \"$line\"");
            assertTrue(client.ok(), client::toString);
            assertEquals("from slipstream", client.stdout().strip());
            served.get(STEP.toSeconds(), TimeUnit.SECONDS);
            assertEquals(null, kernelListener.accept(), "nothing reached the kernel listener");
            stack.enter();
            try {
                listener.close();
            } finally {
                stack.exit();
            }
            assertFalse(filters.hasListener(XdpFilters.PROTO_TCP, localIp, port));
        }
    }

    /**
     * Two receive queues: the peer spreads its flows over both (its transmit queue is our
     * receive queue, chosen by flow hash), and every segment of each of 16 downloads reaches
     * the stack whichever queue it lands on: all 16 arrive whole.
     */
    @Test
    void everyFlowArrivesWholeOverTwoReceiveQueues() throws Exception {
        close(); // the one-queue pair every test gets
        open(2);
        XdpInterface xdp = (XdpInterface) stack.nic();
        assertArrayEquals(new int[] {0, 1}, xdp.queueIds());
        int flows = 16;
        int port = 20000 + ThreadLocalRandom.current().nextInt(10000);
        TcpListener[] listener = new TcpListener[1];
        WaitQueue queue = BlockingConnection.listen(stack, tcp, port, flows, TcpConnectOptions.DEFAULT, listener);
        byte[] body = RelayTransfers.body(SMALL_BODY, 3);
        CompletableFuture<Void> served = CompletableFuture.runAsync(() -> {
            try {
                List<BlockingConnection> accepted = new ArrayList<>();
                while (accepted.size() < flows) {
                    accepted.add(BlockingConnection.accept(stack, listener[0], queue));
                }
                for (BlockingConnection c : accepted) {
                    c.write(ByteBuffer.wrap(body));
                    c.close();
                }
            } catch (IOException e) {
                throw new RuntimeException(e);
            }
        });
        NetNs.Result client = veth.ns().exec(STEP, "python3", "-c", KernelTransfers.DOWNLOAD, veth.localAddress(), Integer.toString(port),
                Integer.toString(flows));
        assertTrue(client.ok(), client::toString);
        served.get(STEP.toSeconds(), TimeUnit.SECONDS);
        String whole = SMALL_BODY + " " + RelayTransfers.sha256(body);
        assertEquals(Collections.nCopies(flows, whole), client.stdout().strip().lines().toList());
        assertTrue(xdp.framesReceived(0) > 0 && xdp.framesReceived(1) > 0,
                () -> "frames per queue: " + xdp.framesReceived(0) + ", " + xdp.framesReceived(1));
        stack.enter();
        try {
            listener[0].close();
        } finally {
            stack.exit();
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
}
