package io.slipstream.ip;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.slipstream.stack.Stack;
import io.slipstream.testing.RawEnd;
import io.slipstream.testing.StackPair;
import io.slipstream.time.VirtualClock;
import io.slipstream.udp.UdpSocket;
import io.slipstream.wire.Ethernet;
import io.slipstream.wire.Icmp;
import io.slipstream.wire.Ipv4;
import io.slipstream.wire.Ipv4Address;
import io.slipstream.wire.Udp;
import java.lang.foreign.MemorySegment;
import java.net.BindException;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * IPv4 reassembly (RFC 791 §3.2) against fragments crafted by the test: any order, overlaps,
 * bounded slots, the timeout and its ICMP time-exceeded, and fragments that contradict each
 * other.
 */
class Ipv4ReassemblyTest {
    private static final AtomicInteger LINKS = new AtomicInteger();
    private static final long RAW_MAC = 0x02_00_00_00_00_77L;
    private static final long STACK_MAC = 0x02_00_00_00_00_01L;
    private static final int RAW_IP = Ipv4Address.parse("198.18.2.1");
    private static final int STACK_IP = Ipv4Address.parse("198.18.2.2");
    private static final int PORT = 4100;

    private final VirtualClock clock = new VirtualClock();
    private RawEnd raw;
    private Stack stack;
    private UdpSocket socket;

    @BeforeEach
    void open() throws BindException {
        String link = "frag" + LINKS.incrementAndGet();
        raw = new RawEnd(link, RAW_MAC, clock).answerArp(RAW_IP);
        stack = Stack.open(StackPair.config(link, "198.18.2.2/24", Map.of("slipstream.mac", "02:00:00:00:00:01",
                "slipstream.ip.reassembly.slots", "2")), clock);
        socket = stack.udp().open();
        socket.bind(PORT);
    }

    @AfterEach
    void close() {
        stack.close();
        raw.close();
        assertEquals(List.of(), stack.nic().buffers().leaks());
        assertEquals(0, stack.outstandingJumboBuffers(), "every reassembly slot gave its buffer back");
    }

    /** A UDP datagram (header + payload) of {@code payloadLength} bytes with a valid checksum. */
    private static byte[] udpDatagram(int payloadLength, int seed) {
        byte[] d = new byte[Udp.HEADER_LENGTH + payloadLength];
        for (int i = 0; i < payloadLength; i++) {
            d[Udp.HEADER_LENGTH + i] = (byte) (i * 31 + seed);
        }
        Udp.write(MemorySegment.ofArray(d), 0, 3333, PORT, payloadLength, RAW_IP, STACK_IP);
        return d;
    }

    /** One fragment carrying {@code datagram[offset, offset+length)}. */
    private static byte[] fragment(byte[] datagram, int id, int offset, int length, boolean more) {
        byte[] f = new byte[Ethernet.HEADER_LENGTH + Ipv4.MIN_HEADER_LENGTH + length];
        MemorySegment s = MemorySegment.ofArray(f);
        Ethernet.write(s, 0, STACK_MAC, RAW_MAC, Ethernet.TYPE_IPV4);
        System.arraycopy(datagram, offset, f, 34, length);
        Ipv4.write(s, 14, 0, 20 + length, id, (more ? Ipv4.FLAG_MF : 0) | offset / 8, 64, Ipv4.PROTO_UDP,
                RAW_IP, STACK_IP);
        return f;
    }

    private void deliver(byte[]... frames) {
        for (byte[] f : frames) {
            raw.send(f);
            while (stack.poll() + raw.poll() > 0) {
                // let the stack process and answer
            }
        }
    }

    private byte[] receive() {
        ByteBuffer in = ByteBuffer.allocate(70_000);
        int n = socket.receive(in);
        return n < 0 ? null : Arrays.copyOf(in.array(), n);
    }

    @Test
    void fragmentsReassembleInAnyOrder() {
        byte[] d = udpDatagram(3000, 1);
        deliver(fragment(d, 1, 2400, d.length - 2400, false), fragment(d, 1, 1200, 1200, true),
                fragment(d, 1, 0, 1200, true));
        assertArrayEquals(Arrays.copyOfRange(d, 8, d.length), receive());
        assertEquals(1, stack.ip().counters().get(IpCounter.REASSEMBLED));
    }

    @Test
    void overlappingAndDuplicateFragmentsStillReassemble() {
        byte[] d = udpDatagram(2000, 2);
        deliver(fragment(d, 2, 0, 1000, true), fragment(d, 2, 0, 1000, true), fragment(d, 2, 800, 800, true),
                fragment(d, 2, 1600, d.length - 1600, false));
        assertArrayEquals(Arrays.copyOfRange(d, 8, d.length), receive());
        assertEquals(0, stack.ip().reassembliesInProgress());
    }

    @Test
    void anIncompleteDatagramTimesOutWithTimeExceededAndFreesItsSlot() {
        byte[] d = udpDatagram(2000, 3);
        deliver(fragment(d, 3, 0, 1000, true)); // the rest never comes
        assertEquals(1, stack.ip().reassembliesInProgress());
        raw.take();
        clock.advanceMillis(29_999);
        deliver();
        assertEquals(1, stack.ip().reassembliesInProgress(), "not before the 30 s deadline");
        clock.advanceMillis(1);
        stack.poll();
        raw.poll();
        stack.poll();
        assertEquals(0, stack.ip().reassembliesInProgress());
        assertEquals(1, stack.ip().counters().get(IpCounter.REASSEMBLY_TIMEOUTS));
        // RFC 792: time exceeded (code 1, reassembly) quoting the first fragment's header.
        boolean seen = false;
        for (byte[] f : raw.take()) {
            MemorySegment s = MemorySegment.ofArray(f);
            if (Ethernet.outerType(s, 0) == Ethernet.TYPE_IPV4 && Ipv4.protocol(s, 14) == Ipv4.PROTO_ICMP) {
                assertEquals(Icmp.TYPE_TIME_EXCEEDED, Icmp.type(s, 34));
                assertEquals(Icmp.CODE_REASSEMBLY_TIME_EXCEEDED, Icmp.code(s, 34));
                assertEquals(3, Ipv4.identification(s, 42), "quotes the lost datagram's header");
                seen = true;
            }
        }
        assertTrue(seen, "time exceeded was sent");
    }

    @Test
    void noTimeExceededWhenTheFirstFragmentNeverCame() {
        byte[] d = udpDatagram(2000, 4);
        deliver(fragment(d, 4, 1000, d.length - 1000, false));
        raw.take();
        clock.advanceMillis(30_000);
        stack.poll();
        raw.poll();
        assertEquals(1, stack.ip().counters().get(IpCounter.REASSEMBLY_TIMEOUTS));
        assertEquals(0, stack.ip().counters().get(IpCounter.ICMP_ERRORS_SENT));
    }

    @Test
    void whenEverySlotIsBusyNewDatagramsAreDroppedUntilOneTimesOut() {
        byte[] d = udpDatagram(2000, 5);
        deliver(fragment(d, 10, 0, 1000, true), fragment(d, 11, 0, 1000, true)); // the 2 slots
        deliver(fragment(d, 12, 0, 1000, true), fragment(d, 12, 1000, d.length - 1000, false));
        assertEquals(2, stack.ip().counters().get(IpCounter.REASSEMBLY_NO_SLOT));
        assertEquals(null, receive(), "the third datagram could not be reassembled");
        clock.advanceMillis(30_000);
        stack.poll();
        deliver(fragment(d, 12, 0, 1000, true), fragment(d, 12, 1000, d.length - 1000, false));
        assertArrayEquals(Arrays.copyOfRange(d, 8, d.length), receive(), "slots are free again");
    }

    @Test
    void contradictoryFragmentsAbandonTheDatagram() {
        byte[] d = udpDatagram(2000, 6);
        // Two different ends for the same datagram.
        deliver(fragment(d, 20, 1000, 1008, false), fragment(d, 20, 1000, 800, false));
        assertEquals(1, stack.ip().counters().get(IpCounter.REASSEMBLY_INCONSISTENT));
        assertEquals(0, stack.ip().reassembliesInProgress());
        // A middle fragment whose length is not a multiple of 8 (RFC 791 §3.2).
        deliver(fragment(d, 21, 0, 1001, true));
        assertEquals(2, stack.ip().counters().get(IpCounter.REASSEMBLY_INCONSISTENT));
        assertEquals(null, receive());
    }
}
