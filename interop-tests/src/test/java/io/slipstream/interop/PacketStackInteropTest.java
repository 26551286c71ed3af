package io.slipstream.interop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.slipstream.bench.BlockingConnection;
import io.slipstream.testing.StackChecks;
import io.slipstream.config.Settings;
import io.slipstream.config.StackConfig;
import io.slipstream.ip.ArpCounter;
import io.slipstream.ip.IpCounter;
import io.slipstream.nic.NicCounter;
import io.slipstream.relay.RelayTransfers;
import io.slipstream.stack.Stack;
import io.slipstream.stack.WaitQueue;
import io.slipstream.tcp.TcpConnectOptions;
import io.slipstream.tcp.TcpListener;
import io.slipstream.testing.NetNs;
import io.slipstream.testing.VethPair;
import io.slipstream.udp.UdpSocket;
import io.slipstream.wire.Ipv4Address;
import io.slipstream.wire.MacAddress;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A whole Slipstream stack on the packet driver, on the local end of a veth pair whose kernel
 * keeps its own address there (198.19.N.1): the stack has 198.19.N.3 and a MAC of its own,
 * answers ARP for it itself, and the kernel in the namespace on the other end (198.19.N.2) is
 * its peer. A kernel client downloads from a Slipstream server and a Slipstream client from a
 * kernel server, a few MB each, checked by SHA-256; UDP flows both ways; and the kernel's own
 * address and a kernel server on it stay reachable on the same interface meanwhile.
 */
@Timeout(180)
class PacketStackInteropTest {
    private static final int BODY = 4 * 1024 * 1024;
    private static final Duration STEP = Duration.ofSeconds(60);

    private VethPair veth;
    private Stack stack;
    private String stackAddress;
    private int peerIp;

    @BeforeEach
    void open() {
        Assumptions.assumeTrue(NetNs.isRoot(), "packet driver tests need root (CAP_NET_RAW, netns): skipped");
        Assumptions.assumeTrue(NetNs.onPath("python3") && NetNs.onPath("ethtool") && NetNs.onPath("ping"),
                "needs python3, ethtool and ping: skipped");
        veth = VethPair.create(1);
        String local = veth.localAddress();
        stackAddress = local.substring(0, local.lastIndexOf('.')) + ".3";
        peerIp = Ipv4Address.parse(veth.peerAddress());
        stack = Stack.open(StackConfig.from(Settings.of(Map.of(
                "slipstream.driver", "packet",
                "slipstream.interface", veth.local(),
                "slipstream.address", stackAddress + "/24"))));
        assertEquals(Ipv4Address.parse(stackAddress), stack.address());
        assertTrue(!MacAddress.format(stack.nic().mac()).equals(veth.localMac()), "a MAC of the stack's own");
    }

    @AfterEach
    void close() throws Exception {
        StackChecks.closeChecked(stack, veth); // a fresh instance per test: the fields need no reset
    }

    @Test
    void aKernelClientDownloadsFromASlipstreamServerWhoseArpTheStackAnswers() throws Exception {
        int port = 20000 + ThreadLocalRandom.current().nextInt(10000);
        TcpListener[] listener = new TcpListener[1];
        WaitQueue queue = BlockingConnection.listen(stack, stack.tcp(), port, 4, TcpConnectOptions.DEFAULT, listener);
        byte[] body = RelayTransfers.body(BODY, 1);
        CompletableFuture<Void> served = CompletableFuture.runAsync(() -> {
            try {
                BlockingConnection c = BlockingConnection.accept(stack, listener[0], queue);
                c.write(ByteBuffer.wrap(body));
                c.close();
            } catch (IOException e) {
                throw new RuntimeException(e);
            }
        });
        NetNs.Result downloaded = veth.ns().exec(STEP, "python3", "-c", KernelTransfers.DOWNLOAD, stackAddress,
                Integer.toString(port), "1");
        assertTrue(downloaded.ok(), downloaded::toString);
        served.get(STEP.toSeconds(), TimeUnit.SECONDS);
        assertEquals(BODY + " " + RelayTransfers.sha256(body), downloaded.stdout().strip(), "length and SHA-256 as sent");
        assertTrue(stack.arp().counters().get(ArpCounter.REPLIES_SENT) >= 1, () -> "" + stack.arp().counters());
        assertEquals(MacAddress.parse(veth.peerMac()), stack.arp().lookup(peerIp), "learnt from the kernel's request");
        System.out.println("packet stack server: " + stack.nic().stats());
        stack.enter();
        try {
            listener[0].close();
        } finally {
            stack.exit();
        }
    }

    @Test
    void aSlipstreamClientDownloadsFromAKernelServerItResolvesByArp() throws Exception {
        int port = 20000 + ThreadLocalRandom.current().nextInt(10000);
        NetNs.Background server = KernelTransfers.startServer(veth.ns(), veth.peerAddress(), port, BODY, STEP);
        try {
            BlockingConnection c = BlockingConnection.connect(stack, stack.tcp(), peerIp, port, 0, TcpConnectOptions.DEFAULT);
            String received = KernelTransfers.readToEnd(c);
            NetNs.Result r = server.await(STEP);
            assertTrue(r.ok(), r::toString);
            assertEquals(BODY + " " + r.stdout().lines().toList().getLast(), received, "length and SHA-256 as sent");
        } finally {
            server.close();
        }
        assertTrue(stack.arp().counters().get(ArpCounter.REQUESTS_SENT) >= 1, "the stack asked for the server itself");
        assertEquals(MacAddress.parse(veth.peerMac()), stack.arp().lookup(peerIp));
    }

    @Test
    void udpFlowsBothWaysWithAKernelSocket() throws Exception {
        UdpSocket socket;
        stack.enter();
        try {
            socket = stack.udp().open();
            socket.bind(7000);
        } finally {
            stack.exit();
        }
        // The kernel sends a short and a 1400-byte datagram and expects each back reversed.
        NetNs.Background kernel = veth.ns().start("python3", "-c", String.join("\n",
                "import socket, sys",
                "s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)",
                "s.bind((sys.argv[2], 0)); s.settimeout(10)",
                "for n in (16, 1400):",
                "    data = bytes((i * 7) % 251 for i in range(n))",
                "    s.sendto(data, (sys.argv[1], 7000))",
                "    back, peer = s.recvfrom(65535)",
                "    assert back == data[::-1], 'reply differs for %d bytes' % n",
                "    assert peer == (sys.argv[1], 7000), peer",
                "print('kernel side ok')"), stackAddress, veth.peerAddress());
        try {
            ByteBuffer in = ByteBuffer.allocate(65536);
            for (int n : new int[] {16, 1400}) {
                in.clear();
                int got = awaitDatagram(socket, in);
                assertEquals(n, got);
                byte[] reversed = new byte[n];
                for (int i = 0; i < n; i++) {
                    assertEquals((byte) ((i * 7) % 251), in.get(i), "byte " + i + " of " + n);
                    reversed[n - 1 - i] = in.get(i);
                }
                stack.enter();
                try {
                    assertEquals(peerIp, socket.lastSourceAddress());
                    assertEquals(n, socket.send(ByteBuffer.wrap(reversed), socket.lastSourceAddress(),
                            socket.lastSourcePort()));
                } finally {
                    stack.exit();
                }
            }
            NetNs.Result r = kernel.await(STEP);
            assertTrue(r.ok() && r.stdout().contains("kernel side ok"), () -> "kernel side: " + r);
        } finally {
            kernel.close();
        }
    }

    /**
     * The kernel keeps its own address on the interface the stack is on: the peer pings both, and
     * a kernel TCP server on the kernel's address serves the peer while the stack runs; the
     * kernel's frames never reach the stack (its IP layer saw nothing not addressed to it).
     */
    @Test
    void theKernelsOwnAddressAndServerStayReachableBesideTheStack() throws Exception {
        NetNs.Result toStack = veth.ns().exec(STEP, "ping", "-c", "3", "-i", "0.2", "-W", "2", stackAddress);
        assertTrue(toStack.ok() && toStack.stdout().contains("3 received"), toStack::toString);
        NetNs.Result toKernel = veth.ns().exec(STEP, "ping", "-c", "3", "-i", "0.2", "-W", "2", veth.localAddress());
        assertTrue(toKernel.ok() && toKernel.stdout().contains("3 received"), toKernel::toString);
        try (ServerSocket server = new ServerSocket()) {
            server.bind(new InetSocketAddress(InetAddress.getByName(veth.localAddress()), 0));
            CompletableFuture<String> served = CompletableFuture.supplyAsync(() -> {
                try (Socket s = server.accept();
                     BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.US_ASCII));
                     PrintWriter out = new PrintWriter(s.getOutputStream(), true, StandardCharsets.US_ASCII)) {
                    String line = in.readLine();
                    out.println("kernel says " + line);
                    return line;
                } catch (IOException e) {
                    return "failed: " + e;
                }
            });
            NetNs.Result client = veth.ns().exec(STEP, "bash", "-c", "exec 3<>/dev/tcp/" + veth.localAddress() + "/"
                    + server.getLocalPort() + " && echo hello >&3 && read -t 5 line <&3 && echo \"$line\"");
            assertTrue(client.ok(), client::toString);
            assertEquals("kernel says hello", client.stdout().strip());
            assertEquals("hello", served.get(STEP.toSeconds(), TimeUnit.SECONDS));
        }
        assertEquals(0, stack.ip().counters().get(IpCounter.RX_NOT_FOR_US),
                () -> "the filter let the kernel's traffic through: " + stack.ip().counters());
        assertTrue(stack.nic().stats().get(NicCounter.RX_FRAMES) >= 4, "the stack's ARP and pings");
    }

    private int awaitDatagram(UdpSocket socket, ByteBuffer in) throws Exception {
        long deadline = System.nanoTime() + STEP.toNanos();
        while (System.nanoTime() < deadline) {
            stack.enter();
            try {
                int n = socket.receive(in);
                if (n >= 0) {
                    return n;
                }
            } finally {
                stack.exit();
            }
            LockSupport.parkNanos(100_000);
        }
        throw new AssertionError("no datagram from the kernel within " + STEP + "; " + stack.counterSnapshot());
    }
}
