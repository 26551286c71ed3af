package io.slipstream.interop;

import io.slipstream.config.Settings;
import io.slipstream.shim.SlipstreamSelectorProvider;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.StandardProtocolFamily;
import java.nio.channels.Channel;
import java.nio.channels.DatagramChannel;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/**
 * Run by {@link XdpShimPortsTest} in a child JVM: the socket shim's channels on an xdp stack
 * (args: interface, address/prefix, peer address, a TCP and a UDP port kernel sockets of the
 * test have on the address). Prints "> " lines saying what happened, and waits for a line on
 * standard input where the test checks something from outside.
 */
public final class XdpShimPortsProgram {
    private XdpShimPortsProgram() {}

    @FunctionalInterface
    private interface IoAction {
        void run() throws IOException;
    }

    public static void main(String[] args) throws Exception {
        String cidr = args[1];
        InetAddress local = InetAddress.getByName(cidr.substring(0, cidr.indexOf('/')));
        InetAddress peer = InetAddress.getByName(args[2]);
        int kernelTcp = Integer.parseInt(args[3]);
        int kernelUdp = Integer.parseInt(args[4]);
        SlipstreamSelectorProvider p = new SlipstreamSelectorProvider(Settings.of(Map.of("slipstream.driver", "xdp",
                "slipstream.interface", args[0], "slipstream.address", cidr, "slipstream.fallback", "error")));
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));

        // Ports a kernel program has: each channel fails as the JDK's does for an address in use.
        try (ServerSocketChannel s = p.openServerSocketChannel()) {
            report("listen", () -> s.bind(new InetSocketAddress(local, kernelTcp)), s);
        }
        try (DatagramChannel d = p.openDatagramChannel(StandardProtocolFamily.INET)) {
            report("bind", () -> d.bind(new InetSocketAddress(local, kernelUdp)), d);
        }
        try (SocketChannel c = p.openSocketChannel()) {
            c.bind(new InetSocketAddress(local, kernelTcp)); // on a stack, the port is taken at connect
            report("connect", () -> c.connect(new InetSocketAddress(peer, 9)), c);
        }

        // Ports the stack holds: the test, a kernel program, tries to bind them meanwhile.
        try (ServerSocketChannel s = p.openServerSocketChannel();
             DatagramChannel d = p.openDatagramChannel(StandardProtocolFamily.INET)) {
            s.bind(new InetSocketAddress(local, 0));
            d.bind(new InetSocketAddress(local, 0));
            say("holding " + port(s.getLocalAddress()) + " " + port(d.getLocalAddress()) + " " + s);
            in.readLine();
        }
        say("closed");
        in.readLine();

        // A wildcard listener: its kernel listener holds the port for the stack as well.
        try (ServerSocketChannel s = p.openServerSocketChannel()) {
            s.bind(null);
            say("wildcard " + s);
        }
        say("done");
        System.exit(0);
    }

    private static void report(String what, IoAction action, Channel channel) {
        try {
            action.run();
            say(what + " succeeded");
        } catch (IOException e) {
            say(what + " " + e.getClass().getName() + ": " + e.getMessage() + " (cause: "
                    + (e.getCause() == null ? "none" : e.getCause().getMessage()) + "), open " + channel.isOpen());
        }
    }

    private static int port(SocketAddress a) {
        return ((InetSocketAddress) a).getPort();
    }

    private static void say(String line) {
        System.out.println("> " + line);
        System.out.flush();
    }
}
