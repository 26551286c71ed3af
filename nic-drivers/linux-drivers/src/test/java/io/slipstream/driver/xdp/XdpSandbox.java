package io.slipstream.driver.xdp;

import io.slipstream.buffer.PacketBuffer;
import io.slipstream.driver.testing.FrameHarness;
import io.slipstream.nic.NicConfig;
import io.slipstream.nic.NicDriver;
import io.slipstream.testing.NetNs;
import io.slipstream.testing.VethPair;
import io.slipstream.time.Clock;
import io.slipstream.wire.Ipv4Address;
import io.slipstream.wire.MacAddress;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.junit.jupiter.api.Assumptions;

/**
 * One test's {@link VethPair}, the XDP driver opened on its local end (where the kernel keeps
 * its address), and a tiny test "stack" that polls it. Closing returns what the test holds,
 * closes the interface and removes the pair and its namespace.
 */
final class XdpSandbox implements AutoCloseable {
    static final Duration STEP = Duration.ofSeconds(5);
    static final int RX_FILL = 32;

    final VethPair veth;
    final NetNs ns;
    final String local;
    final int localIp;
    final int peerIp;
    final long peerMac;
    XdpInterface vi;
    final FrameHarness harness = new FrameHarness(() -> this.vi, RX_FILL, STEP);
    final FrameHarness.Recorder events = harness.events;

    private XdpSandbox(VethPair veth) {
        this.veth = veth;
        this.ns = veth.ns();
        this.local = veth.local();
        this.localIp = Ipv4Address.parse(veth.localAddress());
        this.peerIp = Ipv4Address.parse(veth.peerAddress());
        this.peerMac = MacAddress.parse(veth.peerMac());
    }

    static void assumeRoot() {
        Assumptions.assumeTrue(NetNs.isRoot(), "XDP tests need root (CAP_NET_ADMIN, CAP_BPF): skipped");
        Assumptions.assumeTrue(NetNs.onPath("ethtool") && NetNs.onPath("python3") && NetNs.onPath("ping"),
                "needs ethtool, python3 and ping (bin/slipstream test installs them): skipped");
    }

    /** A veth pair with {@code queues} queues each way; nothing opened on it yet. */
    static XdpSandbox create(int queues) {
        VethPair veth = VethPair.create(queues);
        try {
            return new XdpSandbox(veth);
        } catch (RuntimeException | Error e) {
            veth.close();
            throw e;
        }
    }

    static NicConfig config(String device, Map<String, String> options) {
        return new NicConfig(device, 0x02_00_00_00_00_01L, NicConfig.DEFAULT_MTU, 64, 64, 512, 2048, options);
    }

    XdpInterface open() {
        return open(Map.of());
    }

    XdpInterface open(Map<String, String> options) {
        vi = (XdpInterface) NicDriver.byName("xdp").open(config(local, options), Clock.SYSTEM);
        return vi;
    }

    String linkShow() {
        return veth.showLocal();
    }

    PacketBuffer acquire() {
        return harness.acquire();
    }

    int pump() {
        return harness.pump();
    }

    PacketBuffer awaitFrame(String what, Predicate<PacketBuffer> wanted) throws InterruptedException {
        return harness.awaitFrame(what, wanted);
    }

    void send(PacketBuffer frame) {
        harness.send(frame);
    }

    /**
     * A kernel TCP server on the shared address, at {@code port} (0: any), exchanges a line with
     * a client in the peer's namespace: the kernel keeps that port on this interface. Returns
     * "client read R, server read S".
     */
    String kernelTcpExchange(int port) throws Exception {
        String address = Ipv4Address.format(localIp);
        try (ServerSocket server = new ServerSocket()) {
            server.bind(new InetSocketAddress(InetAddress.getByName(address), port));
            CompletableFuture<String> served = CompletableFuture.supplyAsync(() -> {
                try (Socket s = server.accept();
                     BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.US_ASCII));
                     PrintWriter out = new PrintWriter(s.getOutputStream(), true, StandardCharsets.US_ASCII)) {
                    String line = in.readLine();
                    out.println("kernel says " + line);
                    return line;
                } catch (IOException e) {
                    return "failed: " + e;
                }
            });
            NetNs.Result client = ns.exec("bash", "-c", "exec 3<>/dev/tcp/" + address + "/" + server.getLocalPort()
                    + " && echo hello >&3 && read -t 5 line <&3 && echo \"$line\"");
            if (!client.ok()) {
                throw new AssertionError("the peer's client failed: " + client);
            }
            return "client read " + client.stdout().strip() + ", server read " + served.get(10, TimeUnit.SECONDS);
        }
    }

    /** Returns what the test holds, closes the interface, deletes the veth pair and the namespace. */
    @Override
    public void close() {
        try {
            if (vi != null) {
                harness.releaseHeld();
                vi.close();
            }
        } finally {
            veth.close();
        }
    }
}
