package io.slipstream.testing;

import java.io.IOException;
import java.net.BindException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
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

    /** The kernel's ephemeral port range, net.ipv4.ip_local_port_range: {low, high}. */
    public static int[] ephemeralRange() throws IOException {
        // Read by lines: Files.readString trusts a size procfs does not report
        String[] f = Files.readAllLines(Path.of("/proc/sys/net/ipv4/ip_local_port_range")).get(0).trim().split("\\s+");
        return new int[] {Integer.parseInt(f[0]), Integer.parseInt(f[1])};
    }
}
