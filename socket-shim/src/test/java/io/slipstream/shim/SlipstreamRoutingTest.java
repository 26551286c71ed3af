package io.slipstream.shim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.slipstream.config.ConfigException;
import io.slipstream.config.Settings;
import io.slipstream.stack.Stack;
import io.slipstream.udp.UdpCounter;
import java.net.InetSocketAddress;
import java.net.SocketException;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Which sockets the Slipstream provider accelerates and which fall back, with their reasons,
 * the {@code slipstream.fallback=error} policy, and configuration errors.
 */
class SlipstreamRoutingTest {

    private static final SlipstreamSelectorProvider PROVIDER = Env.slipstreamProvider();

    @Test
    void datagramChannelsOnAStackAddressRunOnThatStack() throws Exception {
        Stack b = ShimStacks.get(Env.config(Env.LINK, Env.B_CIDR)).stack();
        long before = b.udp().counters().get(UdpCounter.RX_DATAGRAMS);
        try (DatagramChannel server = PROVIDER.openDatagramChannel().bind(new InetSocketAddress("198.18.7.2", 0));
                DatagramChannel client = PROVIDER.openDatagramChannel()) {
            ShimDatagramChannel s = (ShimDatagramChannel) server;
            assertTrue(s.isAccelerated());
            assertEquals(b, s.stack());
            client.send(ByteBuffer.wrap(new byte[] {1, 2, 3}), server.getLocalAddress());
            assertTrue(((ShimDatagramChannel) client).isAccelerated(), "an unbound sender is routed by destination");
            assertEquals(new InetSocketAddress("198.18.7.1", ((InetSocketAddress) client.getLocalAddress()).getPort()),
                    client.getLocalAddress());
            server.receive(ByteBuffer.allocate(8));
            assertTrue(b.udp().counters().get(UdpCounter.RX_DATAGRAMS) > before, "the datagram went through stack B");
        }
    }

    @Test
    void optionsSetBeforeBindAreReplayedOntoTheStackSocket() throws Exception {
        try (DatagramChannel dc = PROVIDER.openDatagramChannel()) {
            dc.setOption(StandardSocketOptions.SO_RCVBUF, 12_345);
            dc.bind(new InetSocketAddress("198.18.7.2", 0));
            assertTrue(((ShimDatagramChannel) dc).isAccelerated());
            assertEquals(12_345, dc.getOption(StandardSocketOptions.SO_RCVBUF));
        }
    }

    @Test
    void anOptionTheStackCannotHonourKeepsTheChannelOnTheKernel() throws Exception {
        long before = PROVIDER.fallback().count(FallbackReason.UNSUPPORTED_OPTION);
        try (DatagramChannel dc = PROVIDER.openDatagramChannel()) {
            dc.setOption(StandardSocketOptions.SO_REUSEPORT, true);
            // The in-memory stack's address is not the kernel's, so the fallback cannot bind it.
            assertThrows(java.net.BindException.class, () -> dc.bind(new InetSocketAddress("198.18.7.2", 0)));
            assertFalse(((ShimDatagramChannel) dc).isAccelerated());
            assertTrue(dc.getOption(StandardSocketOptions.SO_REUSEPORT));
        }
        assertEquals(before + 1, PROVIDER.fallback().count(FallbackReason.UNSUPPORTED_OPTION));
    }

    @Test
    void joiningAGroupKeepsAnUndecidedChannelOnTheKernelCountedAsMulticast() throws Exception {
        long before = PROVIDER.fallback().count(FallbackReason.MULTICAST);
        java.net.NetworkInterface lo = java.net.NetworkInterface.getByName("lo");
        try (DatagramChannel dc = PROVIDER.openDatagramChannel()) {
            dc.join(java.net.InetAddress.getByName("239.255.78.1"), lo);
            assertEquals(before + 1, PROVIDER.fallback().count(FallbackReason.MULTICAST));
            // The decision is made: the kernel cannot bind the in-memory stack's address.
            assertThrows(java.net.BindException.class, () -> dc.bind(new InetSocketAddress("198.18.7.2", 0)));
            assertFalse(((ShimDatagramChannel) dc).isAccelerated());
        }
        try (DatagramChannel dc = PROVIDER.openDatagramChannel()) {
            dc.setOption(StandardSocketOptions.IP_MULTICAST_IF, lo);
            dc.send(ByteBuffer.wrap(new byte[] {1}), new InetSocketAddress(java.net.InetAddress.getLoopbackAddress(), 9));
            assertFalse(((ShimDatagramChannel) dc).isAccelerated(), "a multicast option set before the decision");
        }
        assertEquals(before + 2, PROVIDER.fallback().count(FallbackReason.MULTICAST));
    }

    @Test
    void anAcceleratedChannelRefusesMulticast() throws Exception {
        java.net.NetworkInterface lo = java.net.NetworkInterface.getByName("lo");
        try (DatagramChannel dc = PROVIDER.openDatagramChannel().bind(new InetSocketAddress("198.18.7.2", 0))) {
            assertTrue(((ShimDatagramChannel) dc).isAccelerated());
            java.net.InetAddress group = java.net.InetAddress.getByName("239.255.78.2");
            assertThrows(UnsupportedOperationException.class, () -> dc.join(group, lo));
            assertThrows(UnsupportedOperationException.class,
                    () -> dc.join(group, lo, java.net.InetAddress.getByName("198.18.7.1")));
            assertThrows(IllegalArgumentException.class, () -> dc.join(java.net.InetAddress.getByName("198.18.7.1"), lo),
                    "argument checks come first, as on the kernel");
            assertThrows(UnsupportedOperationException.class, () -> dc.setOption(StandardSocketOptions.IP_MULTICAST_IF, lo));
            assertThrows(UnsupportedOperationException.class, () -> dc.setOption(StandardSocketOptions.IP_MULTICAST_TTL, 3));
            assertNull(dc.getOption(StandardSocketOptions.IP_MULTICAST_IF));
            assertEquals(1, dc.getOption(StandardSocketOptions.IP_MULTICAST_TTL));
            assertTrue(dc.isOpen(), "refusing leaves the channel usable");
        }
    }

    @Test
    void loopbackWildcardAndForeignAddressesFallBackWithTheirReasons() throws Exception {
        Fallback f = PROVIDER.fallback();
        long loopback = f.count(FallbackReason.LOOPBACK);
        long wildcard = f.count(FallbackReason.WILDCARD_BIND);
        long notRouted = f.count(FallbackReason.NOT_ROUTED);
        try (DatagramChannel a = PROVIDER.openDatagramChannel().bind(new InetSocketAddress("127.0.0.1", 0));
                DatagramChannel w = PROVIDER.openDatagramChannel().bind(null);
                SocketChannel lo = PROVIDER.openSocketChannel();
                ServerSocketChannel l = PROVIDER.openServerSocketChannel().bind(new InetSocketAddress("198.18.7.2", 0))) {
            assertFalse(((ShimDatagramChannel) a).isAccelerated());
            assertFalse(((ShimDatagramChannel) w).isAccelerated());
            assertTrue(((ShimServerSocketChannel) l).isAccelerated());
            // 192.0.2.0/24 (TEST-NET-1) is no stack's: the kernel takes it; nothing is sent (not connected).
            assertThrows(java.net.BindException.class, () -> lo.bind(new InetSocketAddress("192.0.2.1", 0)));
        }
        assertEquals(loopback + 1, f.count(FallbackReason.LOOPBACK));
        assertEquals(wildcard + 1, f.count(FallbackReason.WILDCARD_BIND));
        assertEquals(notRouted + 1, f.count(FallbackReason.NOT_ROUTED));
    }

    @Test
    void tcpToAStackAddressRunsOnTheStacksAndAWildcardListenerAcceptsFromThem() throws Exception {
        try (ServerSocketChannel wildcard = PROVIDER.openServerSocketChannel().bind(null);
                SocketChannel viaStack = PROVIDER.openSocketChannel();
                SocketChannel viaKernel = PROVIDER.openSocketChannel()) {
            int port = ((InetSocketAddress) wildcard.getLocalAddress()).getPort();
            assertTrue(((ShimServerSocketChannel) wildcard).isAccelerated());
            viaStack.connect(new InetSocketAddress("198.18.7.2", port));
            assertTrue(((ShimSocketChannel) viaStack).isAccelerated());
            viaKernel.connect(new InetSocketAddress("127.0.0.1", port));
            assertFalse(((ShimSocketChannel) viaKernel).isAccelerated());
            int accelerated = 0;
            for (int i = 0; i < 2; i++) {
                try (SocketChannel a = wildcard.accept()) {
                    accelerated += ((ShimSocketChannel) a).isAccelerated() ? 1 : 0;
                    a.write(ByteBuffer.wrap(new byte[] {(byte) i}));
                }
            }
            assertEquals(1, accelerated, "one connection came through the stack, one through the kernel");
            assertTrue(viaStack.read(ByteBuffer.allocate(1)) >= 0);
            assertTrue(viaKernel.read(ByteBuffer.allocate(1)) >= 0);
        }
    }

    @Test
    void aSelectorOverOneStacksSocketsWaitsAsABlockedThreadOfThatStack() throws Exception {
        Stack b = ShimStacks.get(Env.config(Env.LINK, Env.B_CIDR)).stack();
        try (java.nio.channels.Selector sel = PROVIDER.openSelector();
                DatagramChannel dc = PROVIDER.openDatagramChannel().bind(new InetSocketAddress("198.18.7.2", 0))) {
            dc.configureBlocking(false);
            dc.register(sel, java.nio.channels.SelectionKey.OP_READ);
            int before = b.blockedThreads();
            Thread t = Thread.ofVirtual().start(() -> {
                try {
                    sel.select();
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
            boolean counted = false;
            for (int i = 0; i < 5_000 && !counted; i++) {
                counted = b.blockedThreads() > before;
                Thread.sleep(1);
            }
            sel.wakeup();
            t.join(10_000);
            assertTrue(counted, "the selecting thread was one of the stack's blocked threads");
            assertFalse(t.isAlive());
        }
    }

    @Test
    void withoutANicEverySocketRunsOnTheKernel() throws Exception {
        SlipstreamSelectorProvider p = new SlipstreamSelectorProvider(Settings.of(Map.of()));
        assertTrue(p.stackConfigs().isEmpty());
        try (ServerSocketChannel server = p.openServerSocketChannel().bind(new InetSocketAddress("127.0.0.1", 0));
                SocketChannel client = p.openSocketChannel()) {
            client.connect(server.getLocalAddress());
            try (SocketChannel accepted = server.accept()) {
                client.write(ByteBuffer.wrap(new byte[] {9}));
                ByteBuffer b = ByteBuffer.allocate(1);
                accepted.read(b);
                assertEquals(9, b.get(0));
            }
        }
        assertEquals(2, p.fallback().count(FallbackReason.NO_NIC));
        assertEquals(Map.of(FallbackReason.NO_NIC, 2L), p.fallback().counts());
    }

    @Test
    void fallbackErrorPolicyRefusesInsteadOfFallingBack() throws Exception {
        SlipstreamSelectorProvider strict = new SlipstreamSelectorProvider(
                Settings.of(Map.of(Fallback.MODE.name(), "error")), List.of(Env.config(Env.LINK, Env.A_CIDR)));
        try (SocketChannel sc = strict.openSocketChannel()) {
            SocketException e = assertThrows(SocketException.class, () -> sc.connect(new InetSocketAddress("127.0.0.1", 9)));
            assertTrue(e.getMessage().contains("slipstream.fallback=error"), e.getMessage());
            assertTrue(e.getMessage().contains("loopback"), e.getMessage());
        }
        try (DatagramChannel dc = strict.openDatagramChannel()) {
            dc.bind(new InetSocketAddress("198.18.7.1", 0));
            assertTrue(((ShimDatagramChannel) dc).isAccelerated(), "accelerated sockets are not refused");
        }
        try (DatagramChannel dc = strict.openDatagramChannel()) {
            SocketException e = assertThrows(SocketException.class,
                    () -> dc.join(java.net.InetAddress.getByName("239.255.78.3"), java.net.NetworkInterface.getByName("lo")));
            assertTrue(e.getMessage().contains("multicast"), e.getMessage());
            dc.bind(new InetSocketAddress("198.18.7.1", 0));
            assertTrue(((ShimDatagramChannel) dc).isAccelerated(), "a refused join leaves the channel undecided");
        }
    }

    @Test
    void configurationErrorsNameTheProperty() {
        ConfigException policy = assertThrows(ConfigException.class,
                () -> new SlipstreamSelectorProvider(Settings.of(Map.of(Fallback.MODE.name(), "sometimes"))));
        assertTrue(policy.getMessage().contains("slipstream.fallback"), policy.getMessage());
        ConfigException strict = assertThrows(ConfigException.class, () -> new SlipstreamSelectorProvider(Settings.of(Map.of(
                Fallback.MODE.name(), "error", "slipstream.driver", "memory", "slipstream.interface", "x"))));
        assertTrue(strict.getMessage().contains("slipstream.address"), strict.getMessage());
        SlipstreamSelectorProvider lenient = new SlipstreamSelectorProvider(
                Settings.of(Map.of("slipstream.driver", "memory", "slipstream.interface", "x")));
        assertTrue(lenient.stackConfigs().isEmpty(), "a rejected configuration falls back to the kernel");
    }

    @Test
    void inheritedChannelIsNullWhenStandardInputIsNoSocket() throws Exception {
        assertNull(PROVIDER.inheritedChannel());
    }
}
