package io.slipstream.tcp;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.slipstream.testing.TcpTestNetwork;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Receive-buffer auto-tuning: the window scale is chosen for slipstream.tcp.rcvbuf.max, and the
 * receive ring grows by size class while the application reads at the rate the window allows
 * (as Linux's tcp_rcv_space_adjust), never beyond the maximum and never when SO_RCVBUF was set.
 */
class TcpReceiveBufferTuningTest {

    @Test
    void rfc7323_theWindowScaleIsChosenForTheMaximumBuffer() {
        try (TcpTestNetwork net = new TcpTestNetwork(71, TcpFixtures.config("rcvbuf.max", "6291456"))) {
            net.capture(true);
            TcpFixtures.connect(net);
            TcpTestNetwork.Segment syn = net.captured().get(0);
            assertTrue(syn.fromA());
            // 6 MiB / 2^7 = 49,152 fits the 16-bit field; 2^6 would not (RFC 7323 §2.3)
            assertEquals(7, syn.options().windowScale, "scale for 6 MiB, not for the 64 KiB ring");
        }
    }

    @Test
    void aReaderThatKeepsUpGrowsTheReceiveRingToTheMaximum() {
        // a sender able to fill more than the receiver offers: its send buffer is not the limit
        try (TcpTestNetwork net = new TcpTestNetwork(72, TcpFixtures.config("rcvbuf.max", "1048576",
                "sndbuf", "4194304")).delay(10, 0)) {
            TcpConnection[] c = TcpFixtures.connect(net);
            assertEquals(65536, c[1].buffers.receive.capacity(), "starts at slipstream.tcp.rcvbuf");
            byte[] data = new byte[8_000_000];
            new Random(72).nextBytes(data);
            assertArrayEquals(data, TcpFixtures.transfer(net, c[0], c[1], data, 600_000), "every byte, in order");
            assertEquals(1048576, c[1].buffers.receive.capacity(), "grown by size class to rcvbuf.max");
            assertEquals(2, net.b.layer.rings().outstandingRings(), "the smaller rings went back");
        }
    }

    @Test
    void aSocketWithSoRcvbufKeepsItsSize() {
        try (TcpTestNetwork net = new TcpTestNetwork(73, TcpFixtures.config("rcvbuf.max", "1048576")).delay(10, 0)) {
            TcpConnection[] c = TcpFixtures.connect(net, TcpConnectOptions.DEFAULT.withBuffers(65536, 0));
            byte[] data = new byte[2_000_000];
            TcpFixtures.transfer(net, c[0], c[1], data, 600_000);
            assertEquals(65536, c[1].buffers.receive.capacity());
        }
    }

    @Test
    void aMovedRingKeepsItsCommittedAndOutOfOrderBytesAtTheirOffsets() {
        try (Arena arena = Arena.ofConfined()) {
            ByteRing small = new ByteRing(arena.allocate(1024));
            ByteRing big = new ByteRing(arena.allocate(4096));
            byte[] bytes = new byte[1024];
            new Random(74).nextBytes(bytes);
            MemorySegment src = MemorySegment.ofArray(bytes);
            small.append(src, 0, 700);
            small.consume(600); // the head near the end: what follows wraps
            small.append(src, 700, 300); // committed: bytes 600..1000
            small.put(500, src, 0, 200); // out of order, wrapped, 100 bytes past the committed ones
            small.moveTo(big);
            assertEquals(400, big.size());
            byte[] got = new byte[400];
            big.get(0, MemorySegment.ofArray(got), 0, 400);
            assertArrayEquals(java.util.Arrays.copyOfRange(bytes, 600, 1000), got);
            byte[] ooo = new byte[200];
            big.get(500, MemorySegment.ofArray(ooo), 0, 200);
            assertArrayEquals(java.util.Arrays.copyOfRange(bytes, 0, 200), ooo);
        }
    }
}
