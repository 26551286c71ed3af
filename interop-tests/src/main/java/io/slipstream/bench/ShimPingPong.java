package io.slipstream.bench;

import io.slipstream.config.Settings;
import io.slipstream.config.StackConfig;
import io.slipstream.shim.SlipstreamSelectorProvider;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The ping-pong of {@link RuntimePingPong} as an application sees it: plain blocking
 * {@link SocketChannel}s with {@code TCP_NODELAY}, made by Slipstream's {@code java.nio}
 * provider, which puts them on two stacks joined by the in-memory NIC in this JVM. One thread
 * per side; every round trip timed; the heap each thread allocated per round trip printed.
 * The same shape on the kernel's loopback is measured by {@code RuntimePingPong}. Usage:
 * {@code ShimPingPong [rounds] [warmup] [pollUsec]}.
 */
public final class ShimPingPong {
    private ShimPingPong() {}

    public static void main(String[] args) throws Exception {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 200_000;
        int warmup = args.length > 1 ? Integer.parseInt(args[1]) : 50_000;
        String pollUsec = args.length > 2 ? args[2] : "-1";
        String link = "shimpp" + ProcessHandle.current().pid() % 10_000;
        SlipstreamSelectorProvider provider = new SlipstreamSelectorProvider(Settings.of(Map.of()),
                List.of(stack(link, TcpPair.A_CIDR, pollUsec), stack(link, TcpPair.B_CIDR, pollUsec)));
        InetAddress a = InetAddress.getByName(TcpPair.A_CIDR.substring(0, TcpPair.A_CIDR.indexOf('/')));
        InetAddress b = InetAddress.getByName(TcpPair.B_CIDR.substring(0, TcpPair.B_CIDR.indexOf('/')));
        try (ServerSocketChannel listener = provider.openServerSocketChannel()) {
            listener.bind(new InetSocketAddress(b, 0));
            SocketChannel client = provider.openSocketChannel();
            client.bind(new InetSocketAddress(a, 0));
            client.setOption(StandardSocketOptions.TCP_NODELAY, true);
            client.connect(listener.getLocalAddress());
            SocketChannel server = listener.accept();
            server.setOption(StandardSocketOptions.TCP_NODELAY, true);
            double[] echoAllocated = new double[1];
            Thread echo = Thread.ofPlatform().name("shim-pong").start(() -> {
                try {
                    echoAllocated[0] = ChannelPingPong.echo(server, rounds, warmup);
                } catch (IOException e) {
                    e.printStackTrace();
                }
            });
            ChannelPingPong.Pings pings = ChannelPingPong.ping(client, rounds, warmup);
            echo.join();
            client.close();
            server.close();
            System.out.printf("TCP ping-pong through java.nio SocketChannels (Slipstream's provider), %d bytes, "
                    + "%d round trips after %d warm-up, slipstream.poll.usec=%s%n", ChannelPingPong.MESSAGE, rounds, warmup, pollUsec);
            Percentiles.print("Slipstream, SocketChannel", pings.sortedRttNs());
            System.out.printf("heap allocated per round trip after warm-up: client %.2f B, server %.2f B%n",
                    pings.allocatedBytesPerRound(), echoAllocated[0]);
        }
    }

    private static StackConfig stack(String link, String cidr, String pollUsec) {
        Map<String, String> m = new HashMap<>(Settings.fromSystem().asMap());
        m.put("slipstream.driver", "memory");
        m.put("slipstream.interface", link);
        m.put("slipstream.address", cidr);
        m.put("slipstream.poll.usec", pollUsec);
        return StackConfig.from(Settings.of(m));
    }
}
