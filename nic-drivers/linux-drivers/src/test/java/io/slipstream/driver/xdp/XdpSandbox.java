package io.slipstream.driver.xdp;

import static org.junit.jupiter.api.Assertions.fail;

import io.slipstream.buffer.PacketBuffer;
import io.slipstream.nic.EventHandler;
import io.slipstream.nic.NicConfig;
import io.slipstream.nic.NicDriver;
import io.slipstream.testing.NetNs;
import io.slipstream.testing.VethPair;
import io.slipstream.time.Clock;
import io.slipstream.wire.Ipv4Address;
import io.slipstream.wire.MacAddress;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;
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
    final Recorder events = new Recorder();

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
            veth.close();
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
