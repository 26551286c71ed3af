package io.slipstream.driver.tap;

import io.slipstream.buffer.PacketBuffer;
import io.slipstream.driver.testing.FrameHarness;
import io.slipstream.nic.NicConfig;
import io.slipstream.nic.NicDriver;
import io.slipstream.nic.VirtualInterface;
import io.slipstream.testing.NetNs;
import io.slipstream.time.Clock;
import io.slipstream.wire.Arp;
import io.slipstream.wire.Ethernet;
import io.slipstream.wire.Ipv4Address;
import io.slipstream.wire.MacAddress;
import java.lang.foreign.MemorySegment;
import java.time.Duration;
import java.util.Map;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;

/**
 * One test's TAP link to the kernel: a namespace {@code sstap-<random>} holding the TAP device
 * {@code sst<random>} as 198.18.7.1/24, and the driver's end of it, where the test plays a tiny
 * stack at 198.18.7.2 with a locally administered MAC. Closing removes everything, also when
 * the test failed.
 */
final class TapSandbox implements AutoCloseable {
    static final String NEEDS_ROOT = "TAP tests need root (CAP_NET_ADMIN): skipped";
    static final int PEER_IP = Ipv4Address.parse("198.18.7.1");
    static final int OUR_IP = Ipv4Address.parse("198.18.7.2");
    static final long OUR_MAC = MacAddress.parse("02:53:53:07:00:02");
    /** Every wait for the kernel is bounded by this. */
    static final Duration STEP = Duration.ofSeconds(5);
    static final int RX_FILL = 16;

    final NetNs ns;
    final String device;
    final VirtualInterface vi;
    final long peerMac;
    final FrameHarness harness;
    final FrameHarness.Recorder events;

    private TapSandbox(NetNs ns, String device, VirtualInterface vi, long peerMac) {
        this.ns = ns;
        this.device = device;
        this.vi = vi;
        this.peerMac = peerMac;
        this.harness = new FrameHarness(() -> this.vi, RX_FILL, STEP);
        this.events = harness.events;
    }

    static void assumeRoot() {
        Assumptions.assumeTrue(NetNs.isRoot(), NEEDS_ROOT);
    }

    static String randomDeviceName() {
        return "sst" + NetNs.randomHex(8);
    }

    /** Small rings, so a test's buffers are few and quick to account for. */
    static NicConfig config(String device) {
        return new NicConfig(device, OUR_MAC, NicConfig.DEFAULT_MTU, 64, 64, 256, 2048, Map.of());
    }

    static VirtualInterface openDriver(String device) {
        return NicDriver.byName("tap").open(config(device), Clock.SYSTEM);
    }

    /** Opens the TAP in the root namespace, then moves it into a fresh namespace and configures it there. */
    static TapSandbox open() {
        NetNs ns = NetNs.create("sstap");
        VirtualInterface vi = null;
        try {
            String device = randomDeviceName();
            vi = openDriver(device);
            NetNs.run("ip", "link", "set", device, "netns", ns.name()).orThrow();
            // No IPv6 on the link: its router and listener solicitations would be noise here.
            ns.exec("sysctl", "-q", "-e", "-w", "net.ipv6.conf." + device + ".disable_ipv6=1").orThrow();
            ns.exec("ip", "addr", "add", Ipv4Address.format(PEER_IP) + "/24", "dev", device).orThrow();
            ns.exec("ip", "link", "set", device, "up").orThrow();
            String link = ns.exec("ip", "link", "show", device).orThrow().stdout();
            Matcher m = Pattern.compile("link/ether ([0-9a-f:]{17})").matcher(link);
            if (!m.find()) {
                throw new IllegalStateException("no MAC address in: " + link);
            }
            return new TapSandbox(ns, device, vi, MacAddress.parse(m.group(1)));
        } catch (RuntimeException | Error e) {
            try {
                if (vi != null) {
                    vi.close();
                }
            } finally {
                ns.close();
            }
            throw e;
        }
    }

    PacketBuffer acquire() {
        return harness.acquire();
    }

    /** Builds an Ethernet/ARP frame from us, padded to the 60-byte minimum (the stack's job). */
    PacketBuffer arpFrame(long ethDst, int op, long targetMac, int targetIp) {
        PacketBuffer b = acquire();
        MemorySegment s = b.segment();
        int n = Ethernet.write(s, 0, ethDst, OUR_MAC, Ethernet.TYPE_ARP);
        n += Arp.write(s, n, op, OUR_MAC, OUR_IP, targetMac, targetIp);
        s.asSlice(n, Ethernet.MIN_FRAME_LENGTH - n).fill((byte) 0);
        return b.setRange(0, Ethernet.MIN_FRAME_LENGTH);
    }

    void send(PacketBuffer frame) {
        harness.send(frame);
    }

    int pump() {
        return harness.pump();
    }

    PacketBuffer awaitFrame(String what, Predicate<PacketBuffer> wanted) throws InterruptedException {
        return harness.awaitFrame(what, wanted);
    }

    void pollUntil(String what, java.util.function.BooleanSupplier done) throws InterruptedException {
        harness.pollUntil(what, done);
    }

    static boolean isArp(PacketBuffer b, int op) {
        MemorySegment s = b.segment();
        return b.length() >= Ethernet.HEADER_LENGTH + Arp.LENGTH
                && Ethernet.outerType(s, 0) == Ethernet.TYPE_ARP
                && Arp.validate(s, Ethernet.HEADER_LENGTH, b.length() - Ethernet.HEADER_LENGTH) == null
                && Arp.operation(s, Ethernet.HEADER_LENGTH) == op;
    }

    /** Returns every buffer the test side holds, closes the interface, removes the namespace. */
    @Override
    public void close() {
        try {
            harness.releaseHeld();
            vi.close();
        } finally {
            ns.close();
        }
    }
}
