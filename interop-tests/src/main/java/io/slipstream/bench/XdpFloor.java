package io.slipstream.bench;

import io.slipstream.buffer.PacketBuffer;
import io.slipstream.nic.EventHandler;
import io.slipstream.nic.FlowSteering;
import io.slipstream.nic.NicConfig;
import io.slipstream.nic.NicDriver;
import io.slipstream.nic.VirtualInterface;
import io.slipstream.time.Clock;
import io.slipstream.wire.Ethernet;
import io.slipstream.wire.Ipv4;
import io.slipstream.wire.Ipv4Address;
import io.slipstream.wire.MacAddress;
import io.slipstream.wire.Udp;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.management.ManagementFactory;
import java.util.Arrays;
import java.util.Locale;
import java.util.Map;

/**
 * The floor of {@link XdpBench}: 64-byte frames echoed over AF_XDP by the driver alone, no
 * stack. One process per side, each with the {@code xdp} driver's interface opened directly on
 * its veth end, busy-polling its rings; the frames are UDP to a port both sides steer to their
 * sockets ({@link FlowSteering}), so the XDP program redirects them as it would a stack's.
 *
 * <ul>
 *   <li>{@code echo DEVICE ADDRESS PORT FRAMES TIMEOUT_S}: sends every frame to that port back
 *       where it came from, in place (MACs, addresses and ports swapped; checksums unchanged).
 *   <li>{@code ping DEVICE ADDRESS PORT PEER_ADDRESS PEER_MAC ROUNDS WARMUP TIMEOUT_S}: sends one
 *       frame at a time, carrying its round number, and times its echo.
 * </ul>
 *
 * Same output as {@link NioPeer}: {@code listening} once the echo side is ready, then one
 * {@code result} line each; the heap allocated per frame or round trip is the polling thread's.
 */
public final class XdpFloor implements EventHandler {
    /** Ethernet, IPv4 and UDP headers and 22 bytes of payload (the round number first). */
    static final int FRAME_BYTES = 64;
    private static final int IP_OFF = Ethernet.HEADER_LENGTH;
    private static final int UDP_OFF = IP_OFF + Ipv4.MIN_HEADER_LENGTH;
    private static final int PAYLOAD_OFF = UDP_OFF + Udp.HEADER_LENGTH;
    private static final int RX_FILL = 64;
    private static final int POLL_BATCH = 64;
    /** Generous: a host busy with other work can stall a side for most of a second. */
    private static final long ROUND_TIMEOUT_NS = 5_000_000_000L;
    private static final com.sun.management.ThreadMXBean THREADS =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

    private final VirtualInterface nic;
    private final int localIp;
    private final int port;
    private final boolean echoing;
    /** Echo side: frames sent back. Ping side: the round number of the last echo received. */
    private long echoed;
    private long lastRound = -1;
    /** Whether this pass posted echoes, so it rings the doorbell. */
    private boolean posted;

    private XdpFloor(VirtualInterface nic, int localIp, int port, boolean echoing) {
        this.nic = nic;
        this.localIp = localIp;
        this.port = port;
        this.echoing = echoing;
    }

    public static void main(String[] args) throws Exception {
        boolean echoing = switch (args.length > 0 ? args[0] : "") {
            case "echo" -> true;
            case "ping" -> false;
            default -> throw new IllegalArgumentException("usage: XdpFloor echo|ping DEVICE ADDRESS PORT ...; see the class comment");
        };
        String device = args[1];
        int localIp = Ipv4Address.parse(args[2]);
        int port = Integer.parseInt(args[3]);
        NioPeer.watchdog(Long.parseLong(args[echoing ? 5 : 8]));
        VirtualInterface nic = NicDriver.byName("xdp").open(NicConfig.of(device, 0x02_00_00_00_00_01L, Map.of()), Clock.SYSTEM);
        try {
            nic.steering().addListener(FlowSteering.PROTO_UDP, localIp, port);
            XdpFloor floor = new XdpFloor(nic, localIp, port, echoing);
            floor.refill();
            if (echoing) {
                System.out.println("listening");
                floor.echo(Long.parseLong(args[4]));
            } else {
                floor.ping(Ipv4Address.parse(args[4]), MacAddress.parse(args[5]), Integer.parseInt(args[6]),
                        Integer.parseInt(args[7]));
            }
        } finally {
            nic.close();
        }
    }

    private void echo(long frames) {
        long allocatedBytes = -THREADS.getCurrentThreadAllocatedBytes();
        long windowStart = frames / 5; // the first fifth warms up, as the ping side's warm-up does
        boolean counting = false;
        while (echoed < frames) {
            if (!counting && echoed >= windowStart) {
                allocatedBytes = -THREADS.getCurrentThreadAllocatedBytes();
                counting = true;
            }
            poll();
        }
        allocatedBytes += THREADS.getCurrentThreadAllocatedBytes();
        drainTx();
        System.out.printf(Locale.ROOT, "result echo frames=%d alloc_b_per_rt=%.2f%n", echoed,
                allocatedBytes / (double) Math.max(1, frames - windowStart));
    }

    private void ping(int peerIp, long peerMac, int rounds, int warmup) {
        // The frame is written once; each round copies it and stamps its round number. The UDP
        // checksum is 0 ("none", RFC 768) so the stamp needs no checksum update.
        MemorySegment template = MemorySegment.ofArray(new byte[FRAME_BYTES]);
        Ethernet.write(template, 0, peerMac, nic.mac(), Ethernet.TYPE_IPV4);
        Ipv4.write(template, IP_OFF, 0, FRAME_BYTES - IP_OFF, 0, Ipv4.FLAG_DF, 64, Ipv4.PROTO_UDP, localIp, peerIp);
        Udp.write(template, UDP_OFF, port, port, FRAME_BYTES - PAYLOAD_OFF, localIp, peerIp);
        template.set(ValueLayout.JAVA_SHORT_UNALIGNED, UDP_OFF + 6, (short) 0);
        long[] rttNs = new long[rounds];
        long allocatedBytes = 0;
        for (int i = 0; i < warmup + rounds; i++) {
            if (i == warmup) {
                allocatedBytes = -THREADS.getCurrentThreadAllocatedBytes();
            }
            PacketBuffer b = acquire();
            MemorySegment.copy(template, 0, b.segment(), 0, FRAME_BYTES);
            b.segment().set(ValueLayout.JAVA_LONG_UNALIGNED, PAYLOAD_OFF, i);
            b.setRange(0, FRAME_BYTES);
            long start = System.nanoTime();
            if (!nic.tx().post(b)) {
                throw new IllegalStateException("tx ring full at round " + i);
            }
            nic.tx().doorbell();
            while (lastRound != i) {
                if (System.nanoTime() - start > ROUND_TIMEOUT_NS) {
                    throw new IllegalStateException("round " + i + ": no echo within 5 s; " + nic.stats());
                }
                poll();
            }
            long t = System.nanoTime() - start;
            if (i >= warmup) {
                rttNs[i - warmup] = t;
            }
        }
        allocatedBytes += THREADS.getCurrentThreadAllocatedBytes();
        drainTx();
        Arrays.sort(rttNs);
        System.out.printf(Locale.ROOT, "result pingpong rounds=%d p50_us=%.2f p90_us=%.2f p99_us=%.2f p999_us=%.2f"
                + " max_us=%.2f alloc_b_per_rt=%.2f%n", rounds, Percentiles.pct(rttNs, 0.50),
                Percentiles.pct(rttNs, 0.90), Percentiles.pct(rttNs, 0.99), Percentiles.pct(rttNs, 0.999),
                rttNs[rounds - 1] / 1e3, allocatedBytes / (double) rounds);
    }

    /** A free buffer; polls for sent ones to come back if the pool is empty for a moment. */
    private PacketBuffer acquire() {
        long start = System.nanoTime();
        for (PacketBuffer b = nic.buffers().acquire(nic.stackOwner()); ; b = nic.buffers().acquire(nic.stackOwner())) {
            if (b != null) {
                return b;
            }
            if (System.nanoTime() - start > ROUND_TIMEOUT_NS) {
                throw new IllegalStateException("no free buffer within 5 s; " + nic.stats());
            }
            poll();
        }
    }

    /** One pass: events handled, the rx ring stocked again, and what was echoed sent. */
    private void poll() {
        posted = false;
        nic.events().poll(this, POLL_BATCH);
        refill();
        if (posted) {
            nic.tx().doorbell();
        }
    }

    private void refill() {
        while (nic.rx().posted() < RX_FILL) {
            PacketBuffer b = nic.buffers().acquire(nic.stackOwner());
            if (b == null) {
                return;
            }
            if (!nic.rx().post(b)) {
                b.release(nic.stackOwner());
                return;
            }
        }
    }

    /** Waits (bounded) for the last frames sent to complete, so none is in flight at close. */
    private void drainTx() {
        long start = System.nanoTime();
        while (nic.tx().posted() > 0 && System.nanoTime() - start < ROUND_TIMEOUT_NS) {
            nic.events().poll(this, POLL_BATCH);
        }
    }

    @Override
    public void onRx(PacketBuffer frame) {
        MemorySegment s = frame.segment();
        long eth = frame.offset();
        if (!isOurs(frame)) {
            frame.release(nic.stackOwner());
            return;
        }
        if (!echoing) {
            lastRound = s.get(ValueLayout.JAVA_LONG_UNALIGNED, eth + PAYLOAD_OFF);
            frame.release(nic.stackOwner());
            return;
        }
        long dst = Ethernet.destination(s, eth);
        Ethernet.write(s, eth, Ethernet.source(s, eth), dst, Ethernet.TYPE_IPV4);
        long ip = eth + IP_OFF;
        int from = s.get(ValueLayout.JAVA_INT_UNALIGNED, ip + 12);
        s.set(ValueLayout.JAVA_INT_UNALIGNED, ip + 12, s.get(ValueLayout.JAVA_INT_UNALIGNED, ip + 16));
        s.set(ValueLayout.JAVA_INT_UNALIGNED, ip + 16, from);
        long udp = eth + UDP_OFF;
        short sourcePort = s.get(ValueLayout.JAVA_SHORT_UNALIGNED, udp);
        s.set(ValueLayout.JAVA_SHORT_UNALIGNED, udp, s.get(ValueLayout.JAVA_SHORT_UNALIGNED, udp + 2));
        s.set(ValueLayout.JAVA_SHORT_UNALIGNED, udp + 2, sourcePort);
        if (!nic.tx().post(frame)) {
            frame.release(nic.stackOwner()); // lost; the ping side's round times out and says so
            return;
        }
        echoed++;
        posted = true;
    }

    /** A frame of this benchmark: UDP to our address and port, an IPv4 header without options. */
    private boolean isOurs(PacketBuffer frame) {
        MemorySegment s = frame.segment();
        long eth = frame.offset();
        return frame.length() >= FRAME_BYTES
                && Ethernet.outerType(s, eth) == Ethernet.TYPE_IPV4
                && Ipv4.headerLength(s, eth + IP_OFF) == Ipv4.MIN_HEADER_LENGTH
                && Ipv4.protocol(s, eth + IP_OFF) == Ipv4.PROTO_UDP
                && Ipv4.destination(s, eth + IP_OFF) == localIp
                && Udp.destinationPort(s, eth + UDP_OFF) == port;
    }

    @Override
    public void onTxComplete(PacketBuffer frame) {
        frame.release(nic.stackOwner());
    }

    @Override
    public void onTimer() {}

    @Override
    public void onWakeup() {}
}
