package io.slipstream.testing;

import java.io.IOException;
import java.net.BindException;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.StandardSocketOptions;
import java.nio.channels.DatagramChannel;
import java.nio.channels.NetworkChannel;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * What a kernel program can do with a port right now, tried with the JDK's own sockets (kernel
 * sockets: the test JVM does not run on Slipstream's provider): bind it on one address, or on
 * the wildcard, with and without the options that let sockets share a port.
 */
public final class KernelPorts {
    private KernelPorts() {}

    /** The ways a program may bind a port: on the address alone, sharing it, and on every address. */
    public static final List<String> EVERY_WAY = List.of("address", "address SO_REUSEADDR", "address SO_REUSEPORT",
            "wildcard SO_REUSEADDR");

    /** The ways of {@link #EVERY_WAY} in which a TCP listener could bind and listen on (address, port). */
    public static List<String> tcpBinds(InetAddress address, int port) throws IOException {
        return binds(address, port, ServerSocketChannel::open);
    }

    /** The ways of {@link #EVERY_WAY} in which a UDP socket could bind (address, port). */
    public static List<String> udpBinds(InetAddress address, int port) throws IOException {
        return binds(address, port, DatagramChannel::open);
    }

    @FunctionalInterface
    private interface Opener {
        NetworkChannel open() throws IOException;
    }

    private static List<String> binds(InetAddress address, int port, Opener opener) throws IOException {
        List<String> bound = new ArrayList<>();
        for (String way : EVERY_WAY) {
            try (NetworkChannel c = opener.open()) {
                c.setOption(StandardSocketOptions.SO_REUSEADDR, way.contains("SO_REUSEADDR"));
                c.setOption(StandardSocketOptions.SO_REUSEPORT, way.contains("SO_REUSEPORT"));
                c.bind(new InetSocketAddress(way.startsWith("wildcard") ? null : address, port));
                bound.add(way);
            } catch (BindException refused) {
                // EADDRINUSE: someone has the port
            }
        }
        return bound;
    }

    /**
     * Ports a kernel program has, each the kernel's choice: a TCP listener on an address
     * ({@link #tcp}), a TCP listener on every address ({@link #tcpOnEveryAddress}) and a UDP
     * socket on the address ({@link #udp}). Closing gives all three back.
     */
    public record Taken(ServerSocket onTheAddress, ServerSocket onEveryAddress, DatagramSocket udpOnTheAddress)
            implements AutoCloseable {
        public static Taken on(InetAddress address) throws IOException {
            ServerSocket a = new ServerSocket(0, 1, address);
            ServerSocket every = null;
            try {
                every = new ServerSocket(0);
                return new Taken(a, every, new DatagramSocket(new InetSocketAddress(address, 0)));
            } catch (IOException | RuntimeException e) {
                a.close();
                if (every != null) {
                    every.close();
                }
                throw e;
            }
        }

        public int tcp() {
            return onTheAddress.getLocalPort();
        }

        public int tcpOnEveryAddress() {
            return onEveryAddress.getLocalPort();
        }

        public int udp() {
            return udpOnTheAddress.getLocalPort();
        }

        @Override
        public void close() throws IOException {
            try (onTheAddress; onEveryAddress; udpOnTheAddress) {
                // closed in reverse order, each even if another fails
            }
        }
    }

    /** The kernel's ephemeral port range, net.ipv4.ip_local_port_range: {low, high}. */
    public static int[] ephemeralRange() throws IOException {
        // Read by lines: Files.readString trusts a size procfs does not report
        String[] f = Files.readAllLines(Path.of("/proc/sys/net/ipv4/ip_local_port_range")).get(0).trim().split("\\s+");
        return new int[] {Integer.parseInt(f[0]), Integer.parseInt(f[1])};
    }
}
