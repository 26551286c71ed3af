package io.slipstream.shim;

import io.slipstream.config.Settings;
import io.slipstream.config.StackConfig;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.UnknownHostException;
import java.nio.channels.DatagramChannel;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.spi.SelectorProvider;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * One side of the differential suite: a provider and the addresses its sockets use. The JDK's
 * default provider runs everything on kernel loopback; Slipstream's runs TCP and UDP
 * accelerated between two stacks joined by the in-memory NIC, and, as "slipstream-kernel", TCP
 * on kernel loopback (its fallback sockets). interop-tests adds "slipstream-xdp" and
 * "slipstream-packet": two stacks on that driver, on the two ends of a veth pair
 * (VethDifferentialTest).
 */
record Env(String name, SelectorProvider provider, InetAddress tcpHost, InetAddress udpServerHost,
        InetAddress udpClientHost) {

    static final String LINK = "shimdiff";
    static final String A_CIDR = "198.18.7.1/24";
    static final String B_CIDR = "198.18.7.2/24";
    private static final SlipstreamSelectorProvider SLIPSTREAM = new SlipstreamSelectorProvider(
            Settings.of(Map.of()), List.of(config(LINK, A_CIDR), config(LINK, B_CIDR)));

    static StackConfig config(String link, String cidr) {
        Map<String, String> m = new HashMap<>();
        m.put("slipstream.driver", "memory");
        m.put("slipstream.interface", link);
        m.put("slipstream.address", cidr);
        return StackConfig.from(Settings.of(m));
    }

    static Env jdk() {
        InetAddress lo = address("127.0.0.1");
        return new Env("jdk", SelectorProvider.provider(), lo, lo, lo);
    }

    static Env slipstream() {
        return new Env("slipstream", SLIPSTREAM, address("198.18.7.2"), address("198.18.7.2"), address("198.18.7.1"));
    }

    /** Slipstream's provider with its sockets on kernel loopback: the fallback path. */
    static Env slipstreamKernel() {
        InetAddress lo = address("127.0.0.1");
        return new Env("slipstream-kernel", SLIPSTREAM, lo, lo, lo);
    }

    /** The shared Slipstream provider, for tests that look inside it. */
    static SlipstreamSelectorProvider slipstreamProvider() {
        return SLIPSTREAM;
    }

    static Stream<Env> both() {
        return Stream.of(jdk(), slipstream());
    }

    /** The JDK's provider, Slipstream's accelerated, and Slipstream's kernel fallback. */
    static Stream<Env> all() {
        return Stream.of(jdk(), slipstream(), slipstreamKernel());
    }

    /** Whether this side's sockets run on Slipstream's stacks (not the JDK's, nor the kernel fallback). */
    boolean accelerated() {
        return provider instanceof SlipstreamSelectorProvider && !tcpHost.isLoopbackAddress();
    }

    InetSocketAddress tcpAny() {
        return new InetSocketAddress(tcpHost, 0);
    }

    InetSocketAddress udpServerAny() {
        return new InetSocketAddress(udpServerHost, 0);
    }

    InetSocketAddress udpClientAny() {
        return new InetSocketAddress(udpClientHost, 0);
    }

    /** A datagram channel of this provider connected to {@code peer} (which binds it). */
    DatagramChannel datagramConnectedTo(SocketAddress peer) throws IOException {
        DatagramChannel c = provider.openDatagramChannel();
        try {
            c.connect(peer);
            return c;
        } catch (IOException | RuntimeException e) {
            c.close();
            throw e;
        }
    }

    /** An address of the UDP server host with nothing bound to it: a port a socket had, now closed. */
    InetSocketAddress closedUdpPort() throws IOException {
        try (DatagramChannel probe = provider.openDatagramChannel().bind(udpServerAny())) {
            return (InetSocketAddress) probe.getLocalAddress();
        }
    }

    /** An address of the TCP host where nothing listens: a port a listener had, now closed. */
    InetSocketAddress closedTcpPort() throws IOException {
        try (ServerSocketChannel probe = provider.openServerSocketChannel().bind(tcpAny())) {
            return (InetSocketAddress) probe.getLocalAddress();
        }
    }

    static InetAddress address(String text) {
        try {
            return InetAddress.getByName(text);
        } catch (UnknownHostException e) {
            throw new AssertionError(e);
        }
    }

    @Override
    public String toString() {
        return name;
    }
}
