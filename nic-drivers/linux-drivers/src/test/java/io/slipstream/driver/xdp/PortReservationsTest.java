package io.slipstream.driver.xdp;

import static io.slipstream.nic.FlowSteering.IN_USE;
import static io.slipstream.nic.FlowSteering.PROTO_TCP;
import static io.slipstream.nic.FlowSteering.PROTO_UDP;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.slipstream.linux.NetNamespace;
import io.slipstream.nic.NicException;
import io.slipstream.testing.KernelPorts;
import io.slipstream.testing.NetNs;
import io.slipstream.testing.VethPair;
import io.slipstream.wire.Ipv4Address;
import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The kernel sockets that hold Slipstream's ports, against the kernel's own bind rules: on the
 * local end of a veth pair, whose address is the test's alone (no driver is opened: holding a
 * port needs only an address the kernel owns).
 */
@Timeout(60)
class PortReservationsTest {
    private VethPair veth;
    private PortReservations holds;
    private int local;
    private InetAddress localInet;

    @BeforeEach
    void sandbox() throws IOException {
        Assumptions.assumeTrue(NetNs.isRoot(), "needs root to create a veth pair: skipped");
        veth = VethPair.create(1);
        local = Ipv4Address.parse(veth.localAddress());
        localInet = InetAddress.getByName(veth.localAddress());
        holds = new PortReservations(veth.local(), XdpNamespace.OWN);
    }

    @AfterEach
    void cleanUp() {
        try {
            if (holds != null) {
                holds.close();
            }
        } finally {
            if (veth != null) {
                veth.close();
            }
        }
    }

    @Test
    void aHeldTcpPortRefusesEveryKernelBindUntilItIsReleased() throws IOException {
        int port = holds.hold(PROTO_TCP, local, 0);
        assertEquals(List.of(), KernelPorts.tcpBinds(localInet, port),
                "no SO_REUSEADDR or SO_REUSEPORT on the hold: every overlapping bind is refused");
        assertEquals(KernelPorts.EVERY_WAY, KernelPorts.udpBinds(localInet, port), "the protocol is part of it");
        holds.release(PROTO_TCP, local, port);
        assertEquals(KernelPorts.EVERY_WAY, KernelPorts.tcpBinds(localInet, port), "released: the kernel's again");
        assertEquals(0, holds.count());
    }

    @Test
    void aHeldUdpPortRefusesEveryKernelBindAndQueuesNoMoreThanADatagramOrTwo() throws IOException {
        int port = holds.hold(PROTO_UDP, local, 0);
        assertEquals(List.of(), KernelPorts.udpBinds(localInet, port));
        // Datagrams that reach the hold some other way than the interface (here: from this host,
        // over loopback, with no program on the interface) queue on it: a kernel-minimum buffer.
        try (DatagramSocket sender = new DatagramSocket()) {
            for (int i = 0; i < 100; i++) {
                sender.send(new DatagramPacket(new byte[1000], 1000, new InetSocketAddress(localInet, port)));
            }
        }
        long queued = udpReceiveQueueBytes(port);
        assertTrue(queued > 0 && queued <= 8192, () -> "bytes queued on the hold after 100 kB sent: " + queued);
        holds.release(PROTO_UDP, local, port);
        assertEquals(KernelPorts.EVERY_WAY, KernelPorts.udpBinds(localInet, port));
    }

    @Test
    void aPortAKernelSocketHasIsInUseWhicheverAddressItBound() throws IOException {
        try (KernelPorts.Taken taken = KernelPorts.Taken.on(localInet)) {
            assertEquals(IN_USE, holds.hold(PROTO_TCP, local, taken.tcp()));
            assertEquals(IN_USE, holds.hold(PROTO_TCP, local, taken.tcpOnEveryAddress()),
                    "a wildcard bind covers the address");
            assertEquals(IN_USE, holds.hold(PROTO_UDP, local, taken.udp()));
        }
        assertEquals(0, holds.count(), "nothing is held after a refusal");
    }

    /**
     * A kernel server that closed its connections first leaves them in TIME-WAIT on its port:
     * the hold takes the port as the JDK's own listener would (SO_REUSEADDR), then refuses every
     * later bind. A live connection on the port is never taken over.
     */
    @Test
    void aPortWithOnlyTimeWaitConnectionsIsTakenAndOneWithALiveConnectionIsNot() throws Exception {
        int port;
        try (ServerSocket server = new ServerSocket(0, 1, localInet); // SO_REUSEADDR, as every JDK listener
             Socket client = new Socket(localInet, server.getLocalPort())) {
            port = server.getLocalPort();
            try (Socket accepted = server.accept()) {
                accepted.getOutputStream().write(1); // and closes first: its side goes to TIME-WAIT
            }
            assertEquals(1, client.getInputStream().read());
            assertEquals(-1, client.getInputStream().read());
        }
        // The accepted side reaches TIME-WAIT once the client's FIN is processed: allow it a moment.
        int held = IN_USE;
        for (int i = 0; i < 100 && held == IN_USE; i++) {
            held = holds.hold(PROTO_TCP, local, port);
            if (held == IN_USE) {
                Thread.sleep(10);
            }
        }
        assertEquals(port, held);
        assertEquals(List.of(), KernelPorts.tcpBinds(localInet, port), "held as exclusively as any other port");
        holds.release(PROTO_TCP, local, port);

        try (ServerSocket server = new ServerSocket(0, 1, localInet);
             Socket client = new Socket(localInet, server.getLocalPort());
             Socket accepted = server.accept()) {
            int live = server.getLocalPort();
            server.close(); // the listener goes; its connection lives on
            assertEquals(IN_USE, holds.hold(PROTO_TCP, local, live), "a live kernel connection keeps its port");
            accepted.getOutputStream().write(2);
            assertEquals(2, client.getInputStream().read(), "and is undisturbed");
        }
        assertEquals(0, holds.count());
    }

    /**
     * With the interface in another namespace (the peer end, in the pair's), the holds are that
     * namespace's kernel's sockets, and the TIME-WAIT connections weighed are its own: its
     * server's port is taken past them, which this namespace's tables could not show.
     */
    @Test
    void inAnotherNamespaceTheHoldsAndTheTimeWaitConnectionsWeighedAreThatNamespaces() throws Exception {
        Path ns = NetNamespace.named(veth.ns().name());
        int peer = Ipv4Address.parse(veth.peerAddress());
        InetAddress peerInet = InetAddress.getByName(veth.peerAddress());
        try (PortReservations there = new PortReservations(veth.peer(), new XdpNamespace(ns))) {
            int port = there.hold(PROTO_TCP, peer, 0);
            assertEquals(List.of(), NetNamespace.call(ns, () -> KernelPorts.tcpBinds(peerInet, port)), "held there");
            there.release(PROTO_TCP, peer, port);

            int timeWait = NetNamespace.call(ns, () -> {
                try (ServerSocket server = new ServerSocket(0, 1, peerInet);
                     Socket client = new Socket(peerInet, server.getLocalPort())) {
                    try (Socket accepted = server.accept()) {
                        accepted.getOutputStream().write(1); // and closes first: its side goes to TIME-WAIT
                    }
                    assertEquals(1, client.getInputStream().read());
                    assertEquals(-1, client.getInputStream().read());
                    return server.getLocalPort();
                }
            });
            int held = IN_USE;
            for (int i = 0; i < 100 && held == IN_USE; i++) {
                held = there.hold(PROTO_TCP, peer, timeWait);
                if (held == IN_USE) {
                    Thread.sleep(10);
                }
            }
            assertEquals(timeWait, held, "only TIME-WAIT connections on the port, in the interface's namespace");
        }
    }

    @Test
    void portZeroHoldsAFreePortTheKernelChoseFromItsEphemeralRange() throws IOException {
        int[] range = KernelPorts.ephemeralRange();
        Set<Integer> ports = new HashSet<>();
        for (int i = 0; i < 20; i++) {
            int port = holds.hold(i % 2 == 0 ? PROTO_TCP : PROTO_UDP, local, 0);
            assertTrue(port >= range[0] && port <= range[1], () -> port + " outside " + range[0] + ".." + range[1]);
            assertTrue(ports.add(port), "a held port is never chosen again: " + port);
        }
        assertEquals(20, holds.count());
    }

    @Test
    void holdsOfOnePortCountAndTheLastReleaseFreesIt() throws IOException {
        int port = holds.hold(PROTO_TCP, local, 0);
        assertEquals(port, holds.hold(PROTO_TCP, local, port), "a listener and a connection share the port");
        assertEquals(1, holds.count(), "one socket");
        holds.release(PROTO_TCP, local, port);
        assertEquals(List.of(), KernelPorts.tcpBinds(localInet, port), "one hold left");
        holds.release(PROTO_TCP, local, port);
        assertEquals(KernelPorts.EVERY_WAY, KernelPorts.tcpBinds(localInet, port));
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> holds.release(PROTO_TCP, local, port));
        assertTrue(e.getMessage().contains("which is not held"), e.getMessage());
    }

    @Test
    void closeFreesEveryPortAndAnAddressTheKernelDoesNotHaveIsNamed() throws IOException {
        int tcp = holds.hold(PROTO_TCP, local, 0);
        int udp = holds.hold(PROTO_UDP, local, 0);
        holds.close();
        assertEquals(KernelPorts.EVERY_WAY, KernelPorts.tcpBinds(localInet, tcp));
        assertEquals(KernelPorts.EVERY_WAY, KernelPorts.udpBinds(localInet, udp));
        holds.release(PROTO_TCP, local, tcp); // after close: nothing to give back, and no error
        assertThrows(IllegalStateException.class, () -> holds.hold(PROTO_TCP, local, 0));

        try (PortReservations other = new PortReservations(veth.local(), XdpNamespace.OWN)) {
            int notOurs = Ipv4Address.parse(veth.peerAddress()); // the peer's, in its namespace
            NicException e = assertThrows(NicException.class, () -> other.hold(PROTO_TCP, notOurs, 8080));
            assertTrue(e.getMessage().contains("EADDRNOTAVAIL") && e.getMessage().contains("TCP " + veth.peerAddress()
                    + ":8080") && e.getMessage().contains("must be one of the kernel's own"), e.getMessage());
            assertEquals(0, other.count());
        }
    }

    /** rx_queue of the UDP socket bound to {@code port} on the local address, from /proc/net/udp. */
    private long udpReceiveQueueBytes(int port) throws IOException {
        byte[] a = localInet.getAddress();
        // /proc/net/udp prints the address as the 32-bit word in host (little-endian) order
        String want = String.format(Locale.ROOT, "%02X%02X%02X%02X:%04X", a[3], a[2], a[1], a[0], port);
        for (String line : Files.readAllLines(Path.of("/proc/net/udp"))) {
            String[] f = line.trim().split("\\s+");
            if (f.length > 4 && f[1].equals(want)) {
                return Long.parseLong(f[4].substring(f[4].indexOf(':') + 1), 16);
            }
        }
        throw new AssertionError("no UDP socket bound to " + want + " in /proc/net/udp");
    }
}
