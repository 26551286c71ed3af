package io.slipstream.replay;

import io.slipstream.interop.TapSandbox;
import io.slipstream.linux.NetNamespace;
import io.slipstream.nic.NicConfig;
import io.slipstream.nic.NicDriver;
import io.slipstream.nic.VirtualInterface;
import io.slipstream.replay.AppScript.Setup;
import io.slipstream.testing.NetNs;
import io.slipstream.testing.RawEnd;
import io.slipstream.time.Clock;
import io.slipstream.wire.Ipv4Address;
import io.slipstream.wire.MacAddress;
import java.util.List;
import java.util.Map;

/**
 * The Linux kernel as the live end, to validate the engine: a TCP or UDP socket of the kernel's
 * in a network namespace the target creates (198.19.42.2), whose only link is a TAP device; the
 * engine plays the peer (198.19.42.1) through the device's other side, reading and writing raw
 * Ethernet frames, and answers the kernel's ARP. Real time: waits sleep. The namespace has the
 * recording's TCP options and MTU and no tail loss probes (see the constructor).
 */
public final class KernelTarget implements LiveTarget {
    static final int PEER_IP = Ipv4Address.parse("198.19.42.1");
    static final int KERNEL_IP = Ipv4Address.parse("198.19.42.2");
    private static final long PEER_MAC = 0x02_00_00_00_42_01L;
    private static final long KERNEL_MAC = 0x02_00_00_00_42_02L;
    private static final long POLL_PAUSE_NANOS = 100_000L;

    private final NetNs ns;
    private final EngineEnd engine;
    private final KernelSocket socket;

    public KernelTarget(Setup setup) {
        ns = NetNs.create("ssrpk");
        RawEnd opened = null;
        try {
            String device = "ssr" + NetNs.randomHex(8);
            VirtualInterface vi = NicDriver.byName("tap").open(NicConfig.of(device, PEER_MAC, Map.of()), Clock.SYSTEM);
            opened = new RawEnd(vi, PEER_MAC).answerArp(PEER_IP);
            TapSandbox.kernelSideIn(ns, device, Ipv4Address.format(KERNEL_IP) + "/24");
            ns.exec("ip", "link", "set", "dev", device, "mtu", Integer.toString(setup.mtu()), "address",
                    MacAddress.format(KERNEL_MAC)).orThrow();
            ns.exec("sysctl", "-q", "-w", "net.ipv4.tcp_timestamps=" + (setup.timestamps() ? 1 : 0),
                    "net.ipv4.tcp_window_scaling=" + (setup.windowScaling() ? 1 : 0),
                    "net.ipv4.tcp_sack=" + (setup.sack() ? 1 : 0),
                    // No tail loss probes: the engine (Java polling a TAP device) answers more slowly
                    // than the recorded peer, and a probe fires after two of the kernel's RTT estimates.
                    "net.ipv4.tcp_early_retrans=0").orThrow();
        } catch (RuntimeException e) {
            if (opened != null) {
                opened.close();
            }
            ns.close();
            throw e;
        }
        engine = new EngineEnd(opened, PEER_MAC, KERNEL_MAC);
        socket = new KernelSocket(NetNamespace.named(ns.name()), KERNEL_IP, PEER_IP);
    }

    @Override
    public int peerAddress() {
        return PEER_IP;
    }

    @Override
    public int liveAddress() {
        return KERNEL_IP;
    }

    @Override
    public void inject(ReplayPacket p) {
        engine.send(p);
    }

    @Override
    public List<ReplayPacket> takeSent() {
        return engine.take(System.nanoTime());
    }

    @Override
    public void pass(long nanos) {
        EngineEnd.passRealTime(nanos, engine::poll, POLL_PAUSE_NANOS);
    }

    @Override
    public void call(AppScript script, AppScript.Step step, int peerPort, int livePort) throws Exception {
        socket.call(script, step, peerPort, livePort);
    }

    @Override
    public int service(boolean reading) {
        return socket.service(reading);
    }

    @Override
    public String diagnostics() {
        return "kernel socket in " + ns.name() + (socket.lastError() == null ? "" : ", last error " + socket.lastError());
    }

    @Override
    public boolean virtualTime() {
        return false;
    }

    @Override
    public void close() throws Exception {
        try {
            socket.close();
        } finally {
            engine.close();
            ns.close();
        }
    }
}
