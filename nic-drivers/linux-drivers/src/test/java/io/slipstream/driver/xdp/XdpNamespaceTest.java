package io.slipstream.driver.xdp;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.slipstream.config.ConfigException;
import io.slipstream.config.Settings;
import io.slipstream.config.StackConfig;
import io.slipstream.linux.NetNamespace;
import io.slipstream.nic.NicCounter;
import io.slipstream.nic.NicDriver;
import io.slipstream.nic.NicException;
import io.slipstream.stack.Stack;
import io.slipstream.stack.StackCounter;
import io.slipstream.testing.KernelPorts;
import io.slipstream.testing.NetNs;
import io.slipstream.testing.VethPair;
import io.slipstream.udp.UdpSocket;
import io.slipstream.wire.Ipv4Address;
import io.slipstream.wire.MacAddress;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@code slipstream.xdp.namespace}: a stack on the xdp driver whose interface lives in another
 * network namespace than the process (the peer end of a veth pair, 198.19.N.2/24 in the pair's
 * namespace), opened from this one. Everything the kernel ties to a namespace is made in the
 * interface's: its index and MAC, its receive queues, the AF_XDP sockets, the program's link,
 * the control plane, and the kernel sockets that hold the stack's ports; the kernel of this
 * namespace (198.19.N.1) exchanges datagrams with it over the pair.
 */
@Timeout(60)
class XdpNamespaceTest {
    private VethPair veth;
    private Path namespace;
    private int peerIp;
    private InetAddress peerInet;

    @BeforeEach
    void create() throws Exception {
        XdpSandbox.assumeRoot();
        veth = VethPair.create(2);
        namespace = NetNamespace.named(veth.ns().name());
        peerIp = Ipv4Address.parse(veth.peerAddress());
        peerInet = InetAddress.getByName(veth.peerAddress());
    }

    @AfterEach
    void remove() {
        if (veth != null) {
            veth.close();
        }
    }

    private Map<String, String> settings(String interfaceName, String namespaceValue) {
        Map<String, String> m = new HashMap<>();
        m.put("slipstream.driver", "xdp");
        m.put("slipstream.interface", interfaceName);
        if (namespaceValue != null) {
            m.put("slipstream.xdp.namespace", namespaceValue);
        }
        return m;
    }

    private String peerLinkShow() {
        return veth.ns().exec("ip", "-d", "link", "show", veth.peer()).orThrow().stdout();
    }

    @Test
    void aStackOnAnInterfaceOfAnotherNamespaceIsThatNamespacesKernelAndExchangesDatagramsWithThisOne()
            throws Exception {
        Stack stack = Stack.open(StackConfig.from(Settings.of(settings(veth.peer(), veth.ns().name()))));
        try {
            assertEquals(peerIp, stack.address(), "the namespace's kernel's address on the interface");
            assertEquals(24, stack.config().prefixLength());
            assertEquals(MacAddress.parse(veth.peerMac()), stack.mac(), "its MAC, read there");
            XdpInterface vi = (XdpInterface) stack.nic();
            assertArrayEquals(new int[] {0, 1}, vi.queueIds(), "both queues: the driver's channel count, read there");
            assertTrue(peerLinkShow().contains("prog/xdp"), "the program is attached there: " + peerLinkShow());
            assertFalse(veth.showLocal().contains("prog/xdp"), "and not on this namespace's end");

            UdpSocket socket;
            stack.enter();
            try {
                socket = stack.udp().open();
                socket.bind(0);
            } finally {
                stack.exit();
            }
            int port = socket.localPort();
            assertEquals(List.of(), NetNamespace.call(namespace, () -> KernelPorts.udpBinds(peerInet, port)),
                    "the port is held in the interface's namespace");

            try (DatagramSocket kernel = new DatagramSocket(new InetSocketAddress(veth.localAddress(), 0))) {
                kernel.setSoTimeout(5_000);
                byte[] hello = "hello".getBytes(StandardCharsets.US_ASCII);
                kernel.send(new DatagramPacket(hello, hello.length, new InetSocketAddress(peerInet, port)));
                ByteBuffer got = ByteBuffer.allocate(64);
                int n = -1;
                for (int i = 0; i < 500 && n < 0; i++) {
                    stack.enter();
                    try {
                        n = socket.receive(got);
                        if (n >= 0) {
                            got.flip();
                            socket.send(got, socket.lastSourceAddress(), socket.lastSourcePort());
                        }
                    } finally {
                        stack.exit();
                    }
                    if (n < 0) {
                        Thread.sleep(10);
                    }
                }
                assertEquals(5, n, "the kernel's datagram reached the stack over AF_XDP");
                DatagramPacket back = new DatagramPacket(new byte[64], 64);
                kernel.receive(back);
                assertEquals("hello", new String(back.getData(), 0, back.getLength(), StandardCharsets.US_ASCII),
                        "and the stack's answer reached the kernel");
            }
            assertTrue(vi.stats().get(NicCounter.RX_FRAMES) > 0 && vi.stats().get(NicCounter.TX_FRAMES) > 0);
            stack.enter();
            try {
                socket.close();
            } finally {
                stack.exit();
            }
            assertEquals(KernelPorts.EVERY_WAY, NetNamespace.call(namespace, () -> KernelPorts.udpBinds(peerInet, port)),
                    "closed: the port is the namespace's kernel's again");
            assertEquals(0, stack.counters().get(StackCounter.INTERNAL_ERRORS), () -> "" + stack.firstInternalError());
        } finally {
            stack.close();
        }
        assertEquals(List.of(), stack.nic().buffers().leaks());
        assertFalse(peerLinkShow().contains("prog/xdp"), "closed: the interface is as it was: " + peerLinkShow());
    }

    /** The launcher's check looks where the stack would open: the interface exists there, and only there. */
    @Test
    void theChecksLookInTheNamespaceTheSettingNames() {
        NicDriver xdp = NicDriver.byName("xdp");
        xdp.check(veth.peer(), settings(veth.peer(), veth.ns().name()));
        xdp.check(veth.peer(), settings(veth.peer(), namespace.toString())); // a path names it too
        NicException here = assertThrows(NicException.class, () -> xdp.check(veth.peer(), settings(veth.peer(), null)));
        assertEquals(NicException.Kind.NOT_FOUND, here.kind());
        assertTrue(here.getMessage().startsWith("xdp " + veth.peer() + ": no such interface ("), here.getMessage());
        NicException there = assertThrows(NicException.class,
                () -> xdp.check(veth.local(), settings(veth.local(), veth.ns().name())));
        assertTrue(there.getMessage().startsWith("xdp " + veth.local() + ": no such interface in network namespace "
                + namespace + " ("), there.getMessage());
    }

    @Test
    void aNamespaceThatCannotBeEnteredOrNamedIsOneClearError() {
        String gone = "ssgone-" + NetNs.randomHex(8);
        NicException e = assertThrows(NicException.class,
                () -> Stack.open(StackConfig.from(Settings.of(settings(veth.peer(), gone)))));
        assertEquals(NicException.Kind.NOT_FOUND, e.kind(), "the shim falls back under NIC_NOT_FOUND");
        assertTrue(e.getMessage().startsWith("xdp " + veth.peer() + ": cannot enter network namespace "
                + NetNamespace.named(gone) + " (slipstream.xdp.namespace): open " + NetNamespace.named(gone)), e.getMessage());
        ConfigException named = assertThrows(ConfigException.class,
                () -> NicDriver.byName("xdp").check(veth.peer(), settings(veth.peer(), "netns/x")));
        assertEquals("slipstream.xdp.namespace: expected a name `ip netns list` shows or an absolute path such as"
                + " /proc/PID/ns/net, got 'netns/x'", named.getMessage());
        assertFalse(peerLinkShow().contains("prog/xdp"));
    }
}
