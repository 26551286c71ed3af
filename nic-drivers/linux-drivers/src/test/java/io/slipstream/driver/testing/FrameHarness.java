package io.slipstream.driver.testing;

import static org.junit.jupiter.api.Assertions.fail;

import io.slipstream.buffer.PacketBuffer;
import io.slipstream.nic.EventHandler;
import io.slipstream.nic.VirtualInterface;
import io.slipstream.testing.NetNs;
import io.slipstream.wire.Ethernet;
import io.slipstream.wire.Ipv4;
import io.slipstream.wire.Ipv4Address;
import io.slipstream.wire.MacAddress;
import io.slipstream.wire.Udp;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;
import java.util.function.Predicate;
import java.util.function.Supplier;

/**
 * A test's tiny stack on a driver's virtual interface: keeps the rx ring stocked, polls, keeps
 * received frames for the test and returns sent buffers, and waits for a frame (or a condition)
 * with every wait bounded. Shared by the TAP and XDP driver tests.
 */
public final class FrameHarness {
    private static final int IP_OFF = Ethernet.HEADER_LENGTH;
    private static final com.sun.management.ThreadMXBean THREADS =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    private final Supplier<VirtualInterface> vi;
    private final int rxFill;
    private final Duration step;
    public final Recorder events = new Recorder();

    /** Over the interface {@code vi} supplies (it may be opened after this is made). */
    public FrameHarness(Supplier<VirtualInterface> vi, int rxFill, Duration step) {
        this.vi = vi;
        this.rxFill = rxFill;
        this.step = step;
    }

    /** A buffer of the interface's pool, owned by the stack. */
    public PacketBuffer acquire() {
        PacketBuffer b = vi.get().buffers().acquire(vi.get().stackOwner());
        if (b == null) {
            fail("the pool of " + vi.get() + " is empty");
        }
        return b;
    }

    /** Posts {@code frame} and rings the doorbell. */
    public void send(PacketBuffer frame) {
        if (!vi.get().tx().post(frame)) {
            fail("tx ring of " + vi.get() + " is full");
        }
        vi.get().tx().doorbell();
    }

    /** Keeps the rx ring stocked, then polls once; returns the events delivered. */
    public int pump() {
        VirtualInterface v = vi.get();
        while (v.rx().posted() < rxFill) {
            PacketBuffer b = acquire();
            if (!v.rx().post(b)) {
                b.release(v.stackOwner());
                break;
            }
        }
        return v.events().poll(events, 64);
    }

    /**
     * Polls until a received frame matches {@code wanted} (returned, owned by the stack; the
     * caller releases it), releasing the others; fails after the step. Sleeps in the interrupt
     * between polls, never longer than 50 ms at a time.
     */
    public PacketBuffer awaitFrame(String what, Predicate<PacketBuffer> wanted) throws InterruptedException {
        VirtualInterface v = vi.get();
        long deadline = System.nanoTime() + step.toNanos();
        List<String> seen = new ArrayList<>();
        while (true) {
            pump();
            for (PacketBuffer b = events.rx.poll(); b != null; b = events.rx.poll()) {
                if (wanted.test(b)) {
                    return b;
                }
                seen.add(describe(b));
                b.release(v.stackOwner());
            }
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                return fail("no " + what + " within " + step + "; received instead: " + seen + "; stats " + v.stats());
            }
            v.interrupt().enable();
            v.interrupt().await(Math.min(left, Duration.ofMillis(50).toNanos()));
        }
    }

    /** Polls until {@code done} holds (or fails after the step). */
    public void pollUntil(String what, BooleanSupplier done) throws InterruptedException {
        long deadline = System.nanoTime() + step.toNanos();
        while (!done.getAsBoolean()) {
            if (System.nanoTime() - deadline > 0) {
                fail("not within " + step + ": " + what + "; stats " + vi.get().stats());
            }
            pump();
            Thread.sleep(1);
        }
    }

    /** Releases every received frame the test has not taken. */
    public void releaseHeld() {
        for (PacketBuffer b = events.rx.poll(); b != null; b = events.rx.poll()) {
            b.release(vi.get().stackOwner());
        }
    }

    /**
     * What {@link #echoUdp} reports: the client's line ("echoed N p50_us X p99_us Y") with the
     * driver's stats, and the fewest bytes this thread allocated over one window of echoes.
     */
    public record Echo(String report, long fewestBytesPerWindow) {}

    /**
     * A kernel UDP client in {@code ns} sends {@code count} datagrams to {@code address}:{@code
     * port}, each after the previous echo came back; this thread echoes them straight from the
     * rx ring (MACs, addresses and ports swapped in place, checksums unchanged) onto the tx
     * ring: no copy, no stack. Heap allocation is measured per {@code window} echoes.
     */
    public Echo echoUdp(NetNs ns, int address, int port, int count, int window) throws InterruptedException {
        String client = """
                import socket, sys, time
                s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(2)
                n = int(sys.argv[2]); port = int(sys.argv[3]); rtts = []
                for i in range(n):
                    msg = b'%08d' % i + b'x' * 56
                    t = time.perf_counter_ns(); s.sendto(msg, (sys.argv[1], port)); d, _ = s.recvfrom(2048)
                    rtts.append(time.perf_counter_ns() - t)
                    assert d == msg, d
                rtts.sort(); print('echoed', n, 'p50_us', rtts[n // 2] / 1000, 'p99_us', rtts[n * 99 // 100] / 1000)
                """;
        VirtualInterface v = vi.get();
        NetNs.Background run = ns.start("python3", "-c", client, Ipv4Address.format(address), "" + count, "" + port);
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        long echoed = 0;
        long windowStart = THREADS.getCurrentThreadAllocatedBytes();
        long fewest = Long.MAX_VALUE;
        while (run.isAlive() && System.nanoTime() - deadline < 0) {
            pump();
            for (PacketBuffer b = events.rx.poll(); b != null; b = events.rx.poll()) {
                if (isUdpTo(b, address, port)) {
                    swapInPlace(b);
                    send(b);
                    if (++echoed % window == 0) {
                        long now = THREADS.getCurrentThreadAllocatedBytes();
                        fewest = Math.min(fewest, now - windowStart);
                        windowStart = now;
                    }
                } else {
                    b.release(v.stackOwner());
                }
            }
        }
        for (int i = 0; i < 100 && v.tx().posted() > 0; i++) {
            pump();
            Thread.sleep(1);
        }
        NetNs.Result r = run.await(Duration.ofSeconds(5));
        return new Echo(r.stdout().strip() + (r.stderr().isBlank() ? "" : "; stderr " + r.stderr().strip())
                + "; stats " + v.stats() + ", completed " + events.txCompleted, fewest);
    }

    /** Turns a received UDP frame around: MACs, IPv4 addresses and ports swapped (checksums stay valid). */
    public static void swapInPlace(PacketBuffer b) {
        MemorySegment s = b.segment();
        long eth = b.offset();
        long dst = Ethernet.destination(s, eth);
        long src = Ethernet.source(s, eth);
        Ethernet.write(s, eth, src, dst, Ethernet.TYPE_IPV4);
        long ip = eth + IP_OFF;
        int from = s.get(ValueLayout.JAVA_INT_UNALIGNED, ip + 12);
        s.set(ValueLayout.JAVA_INT_UNALIGNED, ip + 12, s.get(ValueLayout.JAVA_INT_UNALIGNED, ip + 16));
        s.set(ValueLayout.JAVA_INT_UNALIGNED, ip + 16, from);
        long udp = ip + Ipv4.headerLength(s, ip);
        short port = s.get(ValueLayout.JAVA_SHORT_UNALIGNED, udp);
        s.set(ValueLayout.JAVA_SHORT_UNALIGNED, udp, s.get(ValueLayout.JAVA_SHORT_UNALIGNED, udp + 2));
        s.set(ValueLayout.JAVA_SHORT_UNALIGNED, udp + 2, port);
    }

    /** Whether {@code b} is a valid IPv4 UDP datagram to {@code address}:{@code port}. */
    public static boolean isUdpTo(PacketBuffer b, int address, int port) {
        MemorySegment s = b.segment();
        long ip = b.offset() + IP_OFF;
        int available = b.length() - IP_OFF;
        return available >= Ipv4.MIN_HEADER_LENGTH + Udp.HEADER_LENGTH
                && Ethernet.outerType(s, b.offset()) == Ethernet.TYPE_IPV4
                && Ipv4.validate(s, ip, available) == null
                && Ipv4.protocol(s, ip) == Ipv4.PROTO_UDP
                && Ipv4.destination(s, ip) == address
                && Udp.destinationPort(s, ip + Ipv4.headerLength(s, ip)) == port;
    }

    public static String describe(PacketBuffer b) {
        if (b.length() < Ethernet.HEADER_LENGTH) {
            return b.length() + "-byte runt";
        }
        return String.format("%d bytes %s -> %s type 0x%04x", b.length(),
                MacAddress.format(Ethernet.source(b.segment(), b.offset())),
                MacAddress.format(Ethernet.destination(b.segment(), b.offset())),
                Ethernet.outerType(b.segment(), b.offset()));
    }

    /** The test's event handler: keeps rx frames, returns tx buffers, counts the rest. */
    public final class Recorder implements EventHandler {
        public final ArrayDeque<PacketBuffer> rx = new ArrayDeque<>();
        public int txCompleted;
        public int timers;
        public int wakeups;

        @Override
        public void onRx(PacketBuffer frame) {
            rx.add(frame);
        }

        @Override
        public void onTxComplete(PacketBuffer frame) {
            txCompleted++;
            frame.release(vi.get().stackOwner());
        }

        @Override
        public void onTimer() {
            timers++;
        }

        @Override
        public void onWakeup() {
            wakeups++;
        }
    }
}
