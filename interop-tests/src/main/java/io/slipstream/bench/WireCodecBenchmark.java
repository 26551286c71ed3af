package io.slipstream.bench;

import io.slipstream.wire.Ethernet;
import io.slipstream.wire.Ipv4;
import io.slipstream.wire.Udp;
import io.slipstream.wire.WireError;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * The per-packet header work of the UDP data path over off-heap frames: validating and
 * parsing a received Ethernet/IPv4/UDP frame (both checksums verified), and building one
 * around a payload already in place (both checksums computed). Must allocate nothing.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class WireCodecBenchmark {

    private static final long LOCAL_MAC = 0x0200_0000_0001L;
    private static final long PEER_MAC = 0x0200_0000_0002L;
    private static final int LOCAL_IP = 0xC612_0001; // 198.18.0.1
    private static final int PEER_IP = 0xC612_0002; // 198.18.0.2
    private static final int IP = Ethernet.HEADER_LENGTH;
    private static final int UDP = IP + Ipv4.MIN_HEADER_LENGTH;

    /** UDP payload bytes: a small message and the largest that fits a 1500-byte MTU. */
    @Param({"64", "1472"})
    int payloadLength;

    private Arena arena;
    private MemorySegment rx;
    private MemorySegment tx;
    private int frameLength;
    private int identification;

    @Setup
    public void setUp() {
        arena = Arena.ofShared();
        frameLength = UDP + Udp.HEADER_LENGTH + payloadLength;
        rx = arena.allocate(2048, 64);
        tx = arena.allocate(2048, 64);
        for (int i = 0; i < payloadLength; i++) {
            byte b = (byte) (i * 31 + 7);
            rx.set(ValueLayout.JAVA_BYTE, UDP + Udp.HEADER_LENGTH + i, b);
            tx.set(ValueLayout.JAVA_BYTE, UDP + Udp.HEADER_LENGTH + i, b);
        }
        writeHeaders(rx, PEER_MAC, LOCAL_MAC, PEER_IP, LOCAL_IP, 1);
        if (Ipv4.validate(rx, IP, frameLength - IP) != null
                || Udp.validate(rx, UDP, frameLength - UDP, PEER_IP, LOCAL_IP) != null) {
            throw new IllegalStateException("the benchmark frame does not validate");
        }
    }

    @TearDown
    public void tearDown() {
        arena.close();
    }

    /** Validates every layer and reads the fields demultiplexing needs (folded into one int). */
    @Benchmark
    public int receive() {
        MemorySegment s = rx;
        int hl = Ethernet.headerLength(s, 0, frameLength);
        if (hl < 0 || Ethernet.payloadType(s, 0) != Ethernet.TYPE_IPV4) {
            return -1;
        }
        WireError e = Ipv4.validate(s, hl, frameLength - hl);
        if (e != null || Ipv4.isFragment(s, hl) || Ipv4.protocol(s, hl) != Ipv4.PROTO_UDP) {
            return -2;
        }
        int ihl = Ipv4.headerLength(s, hl);
        int src = Ipv4.source(s, hl);
        int dst = Ipv4.destination(s, hl);
        long udp = hl + ihl;
        if (Udp.validate(s, udp, Ipv4.totalLength(s, hl) - ihl, src, dst) != null) {
            return -3;
        }
        return src ^ dst ^ Ipv4.tos(s, hl) ^ (Udp.sourcePort(s, udp) << 16) ^ Udp.destinationPort(s, udp)
                ^ Udp.length(s, udp);
    }

    /** Writes UDP, IPv4 and Ethernet headers (with both checksums) in front of the payload. */
    @Benchmark
    public int send() {
        return writeHeaders(tx, LOCAL_MAC, PEER_MAC, LOCAL_IP, PEER_IP, ++identification);
    }

    private int writeHeaders(MemorySegment s, long srcMac, long dstMac, int srcIp, int dstIp, int id) {
        Udp.write(s, UDP, 40000, 7, payloadLength, srcIp, dstIp);
        Ipv4.write(s, IP, 0, Ipv4.MIN_HEADER_LENGTH + Udp.HEADER_LENGTH + payloadLength, id & 0xFFFF, Ipv4.FLAG_DF,
                64, Ipv4.PROTO_UDP, srcIp, dstIp);
        Ethernet.write(s, 0, dstMac, srcMac, Ethernet.TYPE_IPV4);
        return Udp.checksum(s, UDP) ^ Ipv4.checksum(s, IP);
    }
}
