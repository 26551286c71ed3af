package io.slipstream.driver.xdp;

import static org.junit.jupiter.api.Assertions.fail;

import io.slipstream.buffer.PacketBuffer;
import io.slipstream.nic.EventHandler;
import io.slipstream.nic.NicConfig;
import io.slipstream.nic.NicDriver;
import io.slipstream.testing.NetNs;
import io.slipstream.time.Clock;
import io.slipstream.wire.Ipv4Address;
import io.slipstream.wire.MacAddress;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;

/**
 * One test's veth pair: {@code sx<hex>a} stays in this (root) namespace with the kernel's
 * address 198.19.N.1/24, where the test opens the XDP driver; its peer {@code sx<hex>b} lives
 * in a fresh namespace as 198.19.N.2/24 (N random, so parallel runs rarely meet), with its
 * transmit checksum offload off (see {@link #create}). Closing
 * removes the pair (deleting one end deletes both) and the namespace, also after a failure.
 */
final class XdpSandbox implements AutoCloseable {
    static final Duration STEP = Duration.ofSeconds(5);
    static final int RX_FILL = 32;

    final NetNs ns;
    final String local;
    final String peer;
    final int localIp;
    final int peerIp;
    final long peerMac;
    final long localMac;
    XdpInterface vi;
    final Recorder events = new Recorder();

    private XdpSandbox(NetNs ns, String local, String peer, int subnet, long localMac, long peerMac) {
        this.ns = ns;
        this.local = local;
        this.peer = peer;
        this.localIp = Ipv4Address.parse("198.19." + subnet + ".1");
        this.peerIp = Ipv4Address.parse("198.19." + subnet + ".2");
        this.localMac = localMac;
        this.peerMac = peerMac;
    }

    static void assumeRoot() {
        Assumptions.assumeTrue(NetNs.isRoot(), "XDP tests need root (CAP_NET_ADMIN, CAP_BPF): skipped");
    }

    /** A veth pair with {@code queues} queues each way; nothing opened on it yet. */
    static XdpSandbox create(int queues) {
        NetNs ns = NetNs.create("ssxdp");
        String hex = NetNs.randomHex(8);
        String local = "sx" + hex + "a";
        String peer = "sx" + hex + "b";
        int subnet = ThreadLocalRandom.current().nextInt(1, 255);
        try {
            NetNs.run("ip", "link", "add", local, "numrxqueues", "" + queues, "numtxqueues", "" + queues, "type", "veth",
                    "peer", "name", peer, "numrxqueues", "" + queues, "numtxqueues", "" + queues).orThrow();
            try {
                NetNs.run("ip", "link", "set", peer, "netns", ns.name()).orThrow();
                NetNs.run("sysctl", "-q", "-w", "net.ipv6.conf." + local + ".disable_ipv6=1").orThrow();
                NetNs.run("ip", "addr", "add", "198.19." + subnet + ".1/24", "dev", local).orThrow();
                NetNs.run("ip", "link", "set", local, "up").orThrow();
                ns.exec("sysctl", "-q", "-w", "net.ipv6.conf." + peer + ".disable_ipv6=1").orThrow();
                ns.exec("ip", "addr", "add", "198.19." + subnet + ".2/24", "dev", peer).orThrow();
                // veth hands XDP the peer's frames with checksums still to be completed (CHECKSUM_PARTIAL):
                // the peer must compute them itself, as a host on a real wire would.
                ns.exec("ethtool", "-K", peer, "tx", "off").orThrow();
                ns.exec("ip", "link", "set", peer, "up").orThrow();
                long localMac = XdpInterface.interfaceMac(local);
                long peerMac = macOf(ns.exec("ip", "link", "show", peer).orThrow().stdout());
                return new XdpSandbox(ns, local, peer, subnet, localMac, peerMac);
            } catch (RuntimeException | Error e) {
                NetNs.run("ip", "link", "delete", local);
                throw e;
            }
        } catch (RuntimeException | Error e) {
            ns.close();
            throw e;
        }
    }

    static long macOf(String ipLinkShow) {
        Matcher m = Pattern.compile("link/ether ([0-9a-f:]{17})").matcher(ipLinkShow);
        if (!m.find()) {
            throw new IllegalStateException("no MAC address in: " + ipLinkShow);
        }
        return MacAddress.parse(m.group(1));
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

    /** {@code ip -d link show} of the local end: "prog/xdp" appears while a program is attached. */
    String linkShow() {
        return NetNs.run("ip", "-d", "link", "show", local).orThrow().stdout();
    }

    PacketBuffer acquire() {
        PacketBuffer b = vi.buffers().acquire(vi.stackOwner());
        if (b == null) {
            fail("the pool of " + vi + " is empty");
        }
        return b;
    }

    /** Keeps the rx ring stocked, then polls once. */
    int pump() {
        while (vi.rx().posted() < RX_FILL) {
            PacketBuffer b = acquire();
            if (!vi.rx().post(b)) {
                b.release(vi.stackOwner());
                break;
            }
        }
        return vi.events().poll(events, 64);
    }

    /** Polls until a received frame matches (returned, owned by the stack), releasing others; fails after STEP. */
    PacketBuffer awaitFrame(String what, Predicate<PacketBuffer> wanted) throws InterruptedException {
        long deadline = System.nanoTime() + STEP.toNanos();
        while (true) {
            pump();
            for (PacketBuffer b = events.rx.poll(); b != null; b = events.rx.poll()) {
                if (wanted.test(b)) {
                    return b;
                }
                b.release(vi.stackOwner());
            }
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                return fail("no " + what + " within " + STEP + "; stats " + vi.stats());
            }
            vi.interrupt().enable();
            vi.interrupt().await(Math.min(left, Duration.ofMillis(50).toNanos()));
        }
    }

    void send(PacketBuffer frame) {
        if (!vi.tx().post(frame)) {
            fail("tx ring of " + vi + " is full");
        }
        vi.tx().doorbell();
    }

    /** Returns what the test holds, closes the interface, deletes the veth pair and the namespace. */
    @Override
    public void close() {
        try {
            if (vi != null) {
                for (PacketBuffer b = events.rx.poll(); b != null; b = events.rx.poll()) {
                    b.release(vi.stackOwner());
                }
                vi.close();
            }
        } finally {
            try {
                NetNs.run("ip", "link", "delete", local);
            } finally {
                ns.close();
            }
        }
    }

    /** Keeps rx frames, returns tx buffers. */
    final class Recorder implements EventHandler {
        final ArrayDeque<PacketBuffer> rx = new ArrayDeque<>();
        int txCompleted;
        final Map<String, Integer> other = new HashMap<>();

        @Override
        public void onRx(PacketBuffer frame) {
            rx.add(frame);
        }

        @Override
        public void onTxComplete(PacketBuffer frame) {
            txCompleted++;
            frame.release(vi.stackOwner());
        }

        @Override
        public void onTimer() {
            other.merge("timer", 1, Integer::sum);
        }

        @Override
        public void onWakeup() {
            other.merge("wakeup", 1, Integer::sum);
        }
    }
}
