package io.slipstream.shim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.channels.spi.SelectorProvider;

/**
 * IPv4 channels in a JVM started with {@code java.net.preferIPv6Addresses=true}, where the
 * wildcard java.net hands out is {@code ::}: {@link PreferIPv6DifferentialTest} runs it once per
 * side of the differential suite (its first argument: jdk, slipstream or slipstream-kernel).
 * Prints "ok" and the side when every assertion held.
 */
public final class PreferIPv6Program {
    private PreferIPv6Program() {}

    public static void main(String[] args) {
        try {
            Env env = Env.all().filter(e -> e.name().equals(args[0])).findFirst().orElseThrow();
            check(env);
            System.out.println("ok " + env);
            System.exit(0);
        } catch (Throwable t) {
            t.printStackTrace(System.out);
            System.exit(1);
        }
    }

    private static void check(Env env) throws Exception {
        assertInstanceOf(Inet6Address.class, new InetSocketAddress(0).getAddress(), "the property is in force");
        InetAddress any4 = InetAddress.getByName("0.0.0.0");
        SelectorProvider p = env.provider();
        try (DatagramChannel dc = p.openDatagramChannel(StandardProtocolFamily.INET)) {
            dc.bind(null);
            InetSocketAddress local = (InetSocketAddress) dc.getLocalAddress();
            assertEquals(any4, local.getAddress());
            assertTrue(local.getPort() > 0);
        }
        // The implicit bind before a first send, and before a first receive.
        try (DatagramChannel server = p.openDatagramChannel(StandardProtocolFamily.INET).bind(env.udpServerAny());
                DatagramChannel client = p.openDatagramChannel(StandardProtocolFamily.INET)) {
            client.send(ByteBuffer.wrap(new byte[] {7}), server.getLocalAddress());
            ByteBuffer got = ByteBuffer.allocate(4);
            InetSocketAddress from = (InetSocketAddress) server.receive(got);
            assertEquals(((InetSocketAddress) client.getLocalAddress()).getPort(), from.getPort());
        }
        try (DatagramChannel dc = p.openDatagramChannel(StandardProtocolFamily.INET)) {
            dc.configureBlocking(false);
            assertNull(dc.receive(ByteBuffer.allocate(4)));
            assertEquals(any4, ((InetSocketAddress) dc.getLocalAddress()).getAddress());
        }
        // TCP: bind(null), and a connect to the IPv4 wildcard (this host, 127.0.0.1).
        try (ServerSocketChannel ssc = p.openServerSocketChannel(StandardProtocolFamily.INET).bind(null);
                SocketChannel sc = p.openSocketChannel(StandardProtocolFamily.INET).bind(null)) {
            InetSocketAddress listening = (InetSocketAddress) ssc.getLocalAddress();
            assertEquals(any4, listening.getAddress());
            assertEquals(any4, ((InetSocketAddress) sc.getLocalAddress()).getAddress());
            assertTrue(sc.connect(new InetSocketAddress(any4, listening.getPort())));
            try (SocketChannel accepted = ssc.accept()) {
                assertEquals(sc.getLocalAddress(), accepted.getRemoteAddress());
            }
        }
    }
}
