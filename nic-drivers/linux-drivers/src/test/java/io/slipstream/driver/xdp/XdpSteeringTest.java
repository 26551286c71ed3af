package io.slipstream.driver.xdp;

import static io.slipstream.driver.xdp.XdpFilters.PROTO_TCP;
import static io.slipstream.driver.xdp.XdpFilters.PROTO_UDP;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.slipstream.wire.Ipv4Address;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * What the program decides, frame by frame, run in the kernel with BPF_PROG_TEST_RUN (no
 * network needed). Built so that a match with no socket bound is XDP_DROP, which tells a frame
 * steered to Slipstream from one passed to the kernel (XDP_PASS). Frames are written here byte
 * by byte from the RFCs, not with the stack's own writers.
 */
class XdpSteeringTest {
    private static final int STEERED = XdpProgram.XDP_DROP;
    private static final int KERNEL = XdpProgram.XDP_PASS;
    private static final int LOCAL = Ipv4Address.parse("198.19.1.1");
    private static final int OTHER_LOCAL = Ipv4Address.parse("198.19.1.3");
    private static final int REMOTE = Ipv4Address.parse("198.19.1.2");
    private static final int ETH_IPV4 = 0x0800;

    private XdpSteering steering;

    @BeforeEach
    void load() {
        XdpProgramTest.assumeRoot();
        steering = XdpSteering.load("test", XdpNamespace.OWN, 1, 1, 64, 16, XdpProgram.XDP_DROP);
        XdpFilters f = steering.filters();
        f.addConnection(PROTO_TCP, LOCAL, 40000, REMOTE, 80);
        f.addListener(PROTO_TCP, LOCAL, 8080);
        f.addListener(PROTO_UDP, 0, 5353);  // a wildcard bind
        f.addListener(PROTO_UDP, LOCAL, 5000); // and with it, UDP fragments to LOCAL
    }

    @AfterEach
    void close() {
        if (steering != null) {
            steering.close();
        }
    }

    @Test
    void connectionsMatchOnTheFullFourTuple() {
        assertEquals(STEERED, run(tcp(REMOTE, 80, LOCAL, 40000)));
        assertEquals(KERNEL, run(tcp(REMOTE, 81, LOCAL, 40000)), "another remote port");
        assertEquals(KERNEL, run(tcp(OTHER_LOCAL, 80, LOCAL, 40000)), "another remote address");
        assertEquals(KERNEL, run(udp(REMOTE, 80, LOCAL, 40000)), "another protocol");
    }

    @Test
    void listenersMatchOnTheirAddressOrTheWildcard() {
        assertEquals(STEERED, run(tcp(REMOTE, 12345, LOCAL, 8080)));
        assertEquals(KERNEL, run(tcp(REMOTE, 12345, OTHER_LOCAL, 8080)), "bound to LOCAL only");
        assertEquals(KERNEL, run(tcp(REMOTE, 12345, LOCAL, 22)), "ssh stays with the kernel");
        assertEquals(STEERED, run(udp(REMOTE, 12345, OTHER_LOCAL, 5353)), "the wildcard bind");
        assertEquals(STEERED, run(udp(REMOTE, 12345, LOCAL, 5000)));
    }

    @Test
    void vlanTagsAndIpOptionsAreParsed() {
        assertEquals(STEERED, run(frame(b -> {
            ethernet(b, 0x8100);
            b.putShort((short) 42).putShort((short) ETH_IPV4);
            ipv4(b, PROTO_TCP, REMOTE, LOCAL, 0, 5);
            ports(b, 12345, 8080);
        })), "one 802.1Q tag");
        assertEquals(STEERED, run(frame(b -> {
            ethernet(b, ETH_IPV4);
            ipv4(b, PROTO_TCP, REMOTE, LOCAL, 0, 6); // IHL 6: four bytes of options
            ports(b, 12345, 8080);
        })), "the transport header found after IP options");
    }

    @Test
    void everythingElseGoesToTheKernel() {
        assertEquals(KERNEL, run(frame(b -> {
            ethernet(b, 0x0806);
            b.put(new byte[28]);
        })), "ARP");
        assertEquals(KERNEL, run(frame(b -> {
            ethernet(b, 0x86dd);
            b.put(new byte[60]);
        })), "IPv6");
        assertEquals(KERNEL, run(icmp(8, REMOTE, LOCAL, null)), "echo request");
    }

    @Test
    void icmpErrorsFollowTheFlowTheyQuote() {
        // Our segment LOCAL:40000 -> REMOTE:80, quoted back in a destination unreachable.
        assertEquals(STEERED, run(icmp(3, REMOTE, LOCAL, b -> {
            ipv4(b, PROTO_TCP, LOCAL, REMOTE, 0, 5);
            ports(b, 40000, 80);
        })));
        assertEquals(STEERED, run(icmp(11, OTHER_LOCAL, LOCAL, b -> {
            ipv4(b, PROTO_UDP, LOCAL, REMOTE, 0, 5);
            ports(b, 5000, 9999);
        })), "time exceeded for a datagram from a bound UDP socket");
        assertEquals(KERNEL, run(icmp(3, REMOTE, LOCAL, b -> {
            ipv4(b, PROTO_TCP, LOCAL, REMOTE, 0, 5);
            ports(b, 40001, 80);
        })), "a flow of the kernel's");
        assertEquals(KERNEL, run(icmp(3, REMOTE, LOCAL, b -> ipv4(b, PROTO_TCP, LOCAL, REMOTE, 0, 5))),
                "the quote ends before the ports");
    }

    @Test
    void udpFragmentsFollowTheAddressesSlipstreamHasUdpSocketsOn() {
        int mf = 0x2000;
        steering.filters().removeListener(PROTO_UDP, 0, 5353); // for now, only LOCAL has a UDP socket
        assertEquals(STEERED, run(fragment(PROTO_UDP, LOCAL, mf)), "first fragment");
        assertEquals(STEERED, run(fragment(PROTO_UDP, LOCAL, 185)), "last fragment, offset 1480");
        assertEquals(STEERED, run(fragment(PROTO_UDP, LOCAL, mf | 185)), "a middle one");
        assertEquals(KERNEL, run(fragment(PROTO_UDP, OTHER_LOCAL, mf)), "no UDP socket there");
        assertEquals(KERNEL, run(fragment(PROTO_TCP, LOCAL, mf)), "TCP fragments stay with the kernel");
        steering.filters().addListener(PROTO_UDP, 0, 5353);
        assertEquals(STEERED, run(fragment(PROTO_UDP, OTHER_LOCAL, mf)), "a wildcard bind takes every address's");
        assertEquals(STEERED, run(frame(b -> {
            ethernet(b, ETH_IPV4);
            ipv4(b, PROTO_UDP, REMOTE, LOCAL, 0x4000, 5); // DF alone is no fragment
            ports(b, 1, 5000);
        })));
    }

    @Test
    void truncatedAndMalformedFramesGoToTheKernel() {
        assertEquals(KERNEL, run(frame(b -> ethernet(b, ETH_IPV4))), "Ethernet header only");
        assertEquals(KERNEL, run(frame(b -> {
            ethernet(b, ETH_IPV4);
            b.put(new byte[19]);
        })), "a 19-byte IP header");
        assertEquals(KERNEL, run(frame(b -> {
            ethernet(b, ETH_IPV4);
            ipv4(b, PROTO_TCP, REMOTE, LOCAL, 0, 5);
            b.putShort((short) 12345);
        })), "cut inside the ports");
        assertEquals(KERNEL, run(frame(b -> {
            ethernet(b, ETH_IPV4);
            ipv4(b, PROTO_TCP, REMOTE, LOCAL, 0, 4);
            ports(b, 12345, 8080);
        })), "IHL below 5");
        assertEquals(KERNEL, run(frame(b -> {
            ethernet(b, ETH_IPV4);
            ipv4(b, PROTO_TCP, REMOTE, LOCAL, 0, 15); // 60-byte header announced, 20 there
            ports(b, 12345, 8080);
        })), "IHL past the end");
        assertEquals(KERNEL, run(frame(b -> {
            ethernet(b, 0x8100);
            b.putShort((short) 1);
        })), "a tag cut short");
    }

    private int run(MemorySegment frame) {
        return steering.testRun(frame);
    }

    private static MemorySegment tcp(int src, int srcPort, int dst, int dstPort) {
        return transport(PROTO_TCP, src, srcPort, dst, dstPort);
    }

    private static MemorySegment udp(int src, int srcPort, int dst, int dstPort) {
        return transport(PROTO_UDP, src, srcPort, dst, dstPort);
    }

    private static MemorySegment transport(int proto, int src, int srcPort, int dst, int dstPort) {
        return frame(b -> {
            ethernet(b, ETH_IPV4);
            ipv4(b, proto, src, dst, 0, 5);
            ports(b, srcPort, dstPort);
            b.put(new byte[16]);
        });
    }

    private static MemorySegment fragment(int proto, int dst, int flagsAndOffset) {
        return frame(b -> {
            ethernet(b, ETH_IPV4);
            ipv4(b, proto, REMOTE, dst, flagsAndOffset, 5);
            b.put(new byte[64]); // the payload of a later fragment has no ports to read
        });
    }

    private static MemorySegment icmp(int type, int src, int dst, Consumer<ByteBuffer> quoted) {
        return frame(b -> {
            ethernet(b, ETH_IPV4);
            ipv4(b, 1, src, dst, 0, 5);
            b.put((byte) type).put((byte) 0).putShort((short) 0).putInt(0);
            if (quoted != null) {
                quoted.accept(b);
            } else {
                b.put(new byte[32]);
            }
        });
    }

    private static void ethernet(ByteBuffer b, int type) {
        b.put(new byte[] {2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2}).putShort((short) type);
    }

    /** An IPv4 header of {@code ihl} words (options zero); checksum and length are not checked by the program. */
    private static void ipv4(ByteBuffer b, int proto, int src, int dst, int flagsAndOffset, int ihl) {
        b.put((byte) (0x40 | ihl)).put((byte) 0).putShort((short) 100).putShort((short) 7)
                .putShort((short) flagsAndOffset).put((byte) 64).put((byte) proto).putShort((short) 0)
                .putInt(src).putInt(dst);
        for (int i = 5; i < Math.min(ihl, 6); i++) {
            b.putInt(0x01010101); // NOPs
        }
    }

    private static void ports(ByteBuffer b, int src, int dst) {
        b.putShort((short) src).putShort((short) dst);
    }

    private static MemorySegment frame(Consumer<ByteBuffer> writer) {
        ByteBuffer b = ByteBuffer.allocate(256);
        writer.accept(b);
        b.flip();
        MemorySegment m = Arena.ofAuto().allocate(Math.max(b.remaining(), 14));
        MemorySegment.copy(MemorySegment.ofBuffer(b), 0, m, 0, b.remaining());
        return m;
    }
}
