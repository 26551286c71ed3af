package io.slipstream.driver.xdp;

import io.slipstream.config.Settings;
import io.slipstream.config.StackConfig;
import io.slipstream.stack.Stack;
import io.slipstream.tcp.TcpConnection;
import io.slipstream.udp.UdpSocket;
import io.slipstream.wire.Ipv4Address;
import java.util.Map;

/**
 * Run in a child JVM by {@link XdpLifecycleTest}: a whole stack on the XDP driver (args:
 * interface, address/prefix, peer address, TCP port, UDP port, the peer's server port) that
 * listens on the TCP port, binds the UDP port and connects to the peer's server from an
 * ephemeral port; once connected prints "ready PORT" (that ephemeral port) and holds it all
 * until killed (at most a minute).
 */
public final class XdpStackHoldProbe {
    private XdpStackHoldProbe() {}

    public static void main(String[] args) throws Exception {
        Stack stack = Stack.open(StackConfig.from(Settings.of(Map.of("slipstream.driver", "xdp",
                "slipstream.interface", args[0], "slipstream.address", args[1]))));
        TcpConnection out;
        stack.enter();
        try {
            stack.tcp().listen(Integer.parseInt(args[3]), 4);
            UdpSocket udp = stack.udp().open();
            udp.bind(Integer.parseInt(args[4]));
            out = stack.tcp().connect(Ipv4Address.parse(args[2]), Integer.parseInt(args[5]));
        } finally {
            stack.exit();
        }
        for (int i = 0; i < 1000 && !connected(stack, out); i++) {
            Thread.sleep(10);
        }
        System.out.println((connected(stack, out) ? "ready " : "not connected ") + out.localPort());
        System.out.flush();
        Thread.sleep(60_000);
        stack.close();
    }

    private static boolean connected(Stack stack, TcpConnection c) {
        stack.enter();
        try {
            return c.connected();
        } finally {
            stack.exit();
        }
    }
}
