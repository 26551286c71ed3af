package io.slipstream.interop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.slipstream.ip.IpCounter;
import io.slipstream.stack.Stack;
import io.slipstream.stack.StackCounter;
import io.slipstream.testing.RawEnd;
import io.slipstream.testing.StackPair;
import io.slipstream.time.VirtualClock;
import io.slipstream.udp.UdpCounter;
import io.slipstream.wire.Arp;
import io.slipstream.wire.Ethernet;
import io.slipstream.wire.Icmp;
import io.slipstream.wire.InternetChecksum;
import io.slipstream.wire.Ipv4;
import io.slipstream.wire.Ipv4Address;
import io.slipstream.wire.Udp;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.BindException;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.statistics.Statistics;
import net.jqwik.api.Tuple;

/**
 * Hostile input: random frames and mutations of valid ones (with and without their
 * checksums repaired, so mutations reach every layer) are thrown at a stack. It must drop and
 * count what is malformed, never let an exception escape or be caught at its last guard,
 * keep answering pings, and give back every buffer on close.
 */
class StackFuzzProperties {
    private static final AtomicInteger LINKS = new AtomicInteger();
    private static final long RAW_MAC = 0x02_00_00_00_00_99L;
    private static final int RAW_IP = Ipv4Address.parse("198.18.1.1");
    private static final int STACK_IP = Ipv4Address.parse("198.18.1.2");
    private static final int OPEN_PORT = 4000;
    /** The stack's MAC, fixed by configuration so that mutated frames reach past the MAC filter. */
    private static final long STACK_MAC = 0x02_00_00_00_00_01L;

    @Property(tries = 300)
    void malformedAndMutatedFramesAreDroppedWithoutHarm(@ForAll("frames") List<byte[]> frames) throws BindException {
        VirtualClock clock = new VirtualClock();
        String link = "fuzz" + LINKS.incrementAndGet();
        RawEnd raw = new RawEnd(link, RAW_MAC, clock);
        Stack stack = Stack.open(StackPair.config(link, "198.18.1.2/24", Map.of("slipstream.mac", "02:00:00:00:00:01")), clock);
        try {
            stack.enter(); // as an application binds: its sockets' entry points hold the stack lock
            try {
                stack.udp().open().bind(OPEN_PORT);
            } finally {
                stack.exit();
            }
            for (byte[] f : frames) {
                raw.send(f);
                while (stack.poll() + raw.poll() > 0) {
                    // let the stack answer
                }
            }
            assertEquals(0, stack.counters().get(StackCounter.INTERNAL_ERRORS),
                    () -> "internal error: " + stack.firstInternalError());
            // The generator must reach the layers, not just the MAC filter.
            Statistics.label("malformed drops").collect(stack.wireErrors().total() > 0);
            Statistics.label("reached UDP").collect(stack.udp().counters().get(UdpCounter.RX_DATAGRAMS) > 0);
            Statistics.label("reached reassembly").collect(stack.ip().counters().get(IpCounter.RX_FRAGMENTS) > 0);
            // The stack still works: it answers a well-formed ping.
            raw.take();
            raw.send(echoRequest(stack.mac(), 0xBEEF));
            boolean answered = false;
            for (int i = 0; i < 100 && !answered; i++) {
                stack.poll();
                for (byte[] r : raw.take()) {
                    answered |= isEchoReply(r, 0xBEEF);
                }
                if (!answered && i % 10 == 9) {
                    // The stack may be resolving our MAC (fuzzing can have evicted it): answer it.
                    clock.advanceMillis(1000);
                    raw.send(arpReply(stack.mac()));
                }
            }
            assertTrue(answered, "the stack still answers ping after the fuzzed frames");
        } finally {
            stack.close();
            raw.close();
        }
        assertEquals(List.of(), stack.nic().buffers().leaks());
        assertEquals(0, stack.outstandingJumboBuffers());
        Statistics.label("malformed drops").coverage(c -> c.check(true).percentage(pct -> pct > 30));
        Statistics.label("reached UDP").coverage(c -> c.check(true).percentage(pct -> pct > 20));
        Statistics.label("reached reassembly").coverage(c -> c.check(true).percentage(pct -> pct > 10));
    }

    @Provide
    Arbitrary<List<byte[]>> frames() {
        Arbitrary<byte[]> random = Arbitraries.bytes().array(byte[].class).ofMinSize(0).ofMaxSize(1600);
        Arbitrary<byte[]> mutated = Combinators.combine(
                        Arbitraries.integers().between(0, TEMPLATES - 1),
                        Arbitraries.integers().between(0, 1599).list().ofMinSize(0).ofMaxSize(6),
                        Arbitraries.bytes().list().ofSize(6),
                        Arbitraries.frequencyOf(Tuple.of(1, Arbitraries.just(0)),
                                Tuple.of(1, Arbitraries.integers().between(-40, 40))),
                        Arbitraries.of(true, false))
                .as(StackFuzzProperties::mutate);
        return Arbitraries.frequencyOf(Tuple.of(1, random), Tuple.of(4, mutated)).list().ofMinSize(1).ofMaxSize(12);
    }

    private static final int TEMPLATES = 6;

    private static byte[] mutate(int template, List<Integer> positions, List<Byte> values, int resize, boolean repair) {
        byte[] f = template(template);
        for (int i = 0; i < positions.size(); i++) {
            int p = positions.get(i) % f.length;
            f[p] = values.get(i);
        }
        int newLen = Math.max(0, f.length + resize);
        f = Arrays.copyOf(f, newLen);
        if (repair && f.length >= 34 && (f[14] & 0xF0) == 0x40) {
            repairChecksums(f);
        }
        return f;
    }

    /**
     * Recomputes the IPv4 header checksum, and the UDP checksum when the UDP length fits the
     * frame, so that a mutation gets past them and reaches the layers above.
     */
    private static void repairChecksums(byte[] f) {
        MemorySegment s = MemorySegment.ofArray(f);
        int hl = (f[14] & 0xF) * 4;
        if (hl < 20 || 14 + hl > f.length) {
            return;
        }
        s.set(ValueLayout.JAVA_SHORT_UNALIGNED, 24, (short) 0);
        int c = InternetChecksum.compute(s, 14, hl);
        f[24] = (byte) (c >>> 8);
        f[25] = (byte) c;
        int udp = 14 + hl;
        if (Ipv4.protocol(s, 14) != Ipv4.PROTO_UDP || Ipv4.isFragment(s, 14) || udp + 8 > f.length) {
            return;
        }
        int len = Udp.length(s, udp);
        if (len >= 8 && udp + len <= f.length) {
            f[udp + 6] = 0;
            f[udp + 7] = 0;
            long acc = InternetChecksum.pseudoHeaderSum(Ipv4.source(s, 14), Ipv4.destination(s, 14), Ipv4.PROTO_UDP, len);
            int u = InternetChecksum.finish(InternetChecksum.sum(s, udp, len, acc));
            u = u == 0 ? 0xFFFF : u;
            f[udp + 6] = (byte) (u >>> 8);
            f[udp + 7] = (byte) u;
        }
    }

    /** Valid frames to the stack: ARP, ping, UDP to an open and a closed port, first and later fragments. */
    private static byte[] template(int which) {
        long dstMac = STACK_MAC;
        return switch (which) {
            case 0 -> arpRequest(dstMac);
            case 1 -> echoRequest(dstMac, 1);
            case 2 -> udp(dstMac, OPEN_PORT, 0, false);
            case 3 -> udp(dstMac, 4001, 0, false);
            case 4 -> udp(dstMac, OPEN_PORT, 0, true);
            default -> udp(dstMac, OPEN_PORT, 185, true);
        };
    }

    private static byte[] arpRequest(long dstMac) {
        byte[] f = new byte[60];
        MemorySegment s = MemorySegment.ofArray(f);
        Ethernet.write(s, 0, dstMac, RAW_MAC, Ethernet.TYPE_ARP);
        Arp.write(s, 14, Arp.OP_REQUEST, RAW_MAC, RAW_IP, 0, STACK_IP);
        return f;
    }

    private static byte[] arpReply(long stackMac) {
        byte[] f = new byte[60];
        MemorySegment s = MemorySegment.ofArray(f);
        Ethernet.write(s, 0, stackMac, RAW_MAC, Ethernet.TYPE_ARP);
        Arp.write(s, 14, Arp.OP_REPLY, RAW_MAC, RAW_IP, stackMac, STACK_IP);
        return f;
    }

    static byte[] echoRequest(long dstMac, int id) {
        byte[] f = new byte[14 + 20 + 8 + 32];
        MemorySegment s = MemorySegment.ofArray(f);
        Ethernet.write(s, 0, dstMac, RAW_MAC, Ethernet.TYPE_IPV4);
        Ipv4.write(s, 14, 0, 20 + 40, 1, 0, 64, Ipv4.PROTO_ICMP, RAW_IP, STACK_IP);
        Icmp.writeHeader(s, 34, Icmp.TYPE_ECHO_REQUEST, 0, id << 16 | 1);
        Icmp.finish(s, 34, 40);
        return f;
    }

    private static boolean isEchoReply(byte[] f, int id) {
        MemorySegment s = MemorySegment.ofArray(f);
        return f.length >= 42 && Ethernet.outerType(s, 0) == Ethernet.TYPE_IPV4
                && Ipv4.protocol(s, 14) == Ipv4.PROTO_ICMP && Icmp.type(s, 34) == Icmp.TYPE_ECHO_REPLY
                && Icmp.echoId(s, 34) == id;
    }

    /** A UDP datagram, or one fragment of it ({@code fragment}: offset in 8-byte units, MF set). */
    private static byte[] udp(long dstMac, int port, int fragmentUnits, boolean fragment) {
        int payload = 64;
        byte[] f = new byte[14 + 20 + 8 + payload];
        MemorySegment s = MemorySegment.ofArray(f);
        Ethernet.write(s, 0, dstMac, RAW_MAC, Ethernet.TYPE_IPV4);
        for (int i = 0; i < payload; i++) {
            f[42 + i] = (byte) i;
        }
        Udp.write(s, 34, 3333, port, payload, RAW_IP, STACK_IP);
        int flags = fragment ? Ipv4.FLAG_MF | fragmentUnits : 0;
        Ipv4.write(s, 14, 0, 20 + 8 + payload, 77, flags, 64, Ipv4.PROTO_UDP, RAW_IP, STACK_IP);
        return f;
    }
}
