package io.slipstream.wire;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;

/** Round trips of the TCP header and options codecs, and the validator's verdicts. */
class TcpCodecProperties {

    @Property
    void headerRoundTrips(@ForAll @IntRange(max = 65535) int sp, @ForAll @IntRange(max = 65535) int dp,
                          @ForAll int seq, @ForAll int ack, @ForAll @IntRange(max = 255) int flags,
                          @ForAll @IntRange(max = 65535) int win, @ForAll @IntRange(max = 65535) int urg,
                          @ForAll int srcIp, @ForAll int dstIp, @ForAll byte[] payload) {
        int len = Tcp.MIN_HEADER_LENGTH + Math.min(payload.length, 1400);
        MemorySegment s = MemorySegment.ofArray(new byte[len + 3]);
        long off = 3; // unaligned on purpose
        MemorySegment.copy(MemorySegment.ofArray(payload), 0, s, off + 20, len - 20);
        Tcp.writeHeader(s, off, sp, dp, seq, ack, 20, flags, win, urg);
        Tcp.writeChecksum(s, off, len, srcIp, dstIp);
        assertNull(Tcp.validate(s, off, len, srcIp, dstIp));
        assertEquals(sp, Tcp.sourcePort(s, off));
        assertEquals(dp, Tcp.destinationPort(s, off));
        assertEquals(seq, Tcp.sequence(s, off));
        assertEquals(ack, Tcp.acknowledgment(s, off));
        assertEquals(flags, Tcp.flags(s, off));
        assertEquals(win, Tcp.window(s, off));
        assertEquals(urg, Tcp.urgentPointer(s, off));
        assertEquals(20, Tcp.headerLength(s, off));
    }

    @Property
    void anySingleBitFlipIsCaught(@ForAll int seq, @ForAll byte[] payload, @ForAll @IntRange(min = 0, max = 10_000) int bitSeed) {
        int len = 20 + Math.min(payload.length, 200);
        MemorySegment s = MemorySegment.ofArray(new byte[len]);
        MemorySegment.copy(MemorySegment.ofArray(payload), 0, s, 20, len - 20);
        Tcp.writeHeader(s, 0, 1, 2, seq, 0, 20, Tcp.ACK, 100, 0);
        Tcp.writeChecksum(s, 0, len, 0xC6120001, 0xC6120002);
        int bit = bitSeed % (len * 8);
        if (bit / 8 == 12) {
            return; // the data offset byte: a flip is caught as a header length error or checksum
        }
        byte b = s.get(java.lang.foreign.ValueLayout.JAVA_BYTE, bit / 8);
        s.set(java.lang.foreign.ValueLayout.JAVA_BYTE, bit / 8, (byte) (b ^ (1 << (bit % 8))));
        assertEquals(WireError.TCP_BAD_CHECKSUM, Tcp.validate(s, 0, len, 0xC6120001, 0xC6120002));
    }

    @Provide
    Arbitrary<int[]> optionValues() {
        return Arbitraries.integers().array(int[].class).ofSize(12);
    }

    @Property
    void optionsRoundTrip(@ForAll("optionValues") int[] v, @ForAll boolean mss, @ForAll boolean ws,
                          @ForAll boolean sackOk, @ForAll boolean ts, @ForAll @IntRange(max = 4) int blocks) {
        TcpOptions o = new TcpOptions();
        o.mss = mss ? v[0] & 0xFFFF : -1;
        o.windowScale = ws ? Math.floorMod(v[1], 15) : -1;
        o.sackPermitted = sackOk;
        o.hasTimestamps = ts;
        o.tsVal = ts ? v[2] : 0;
        o.tsEcr = ts ? v[3] : 0;
        for (int i = 0; i < blocks; i++) {
            o.addSackBlock(v[4 + 2 * i], v[5 + 2 * i]);
        }
        if (o.encodedLength() > 40) {
            return; // not representable; write refuses (checked in TcpOptionsTest)
        }
        MemorySegment s = MemorySegment.ofArray(new byte[60]);
        int len = o.write(s, 20);
        assertEquals(0, len % 4);
        Tcp.writeHeader(s, 0, 1, 2, 3, 4, 20 + len, Tcp.SYN, 5, 0);
        Tcp.writeChecksum(s, 0, 20 + len, 1, 2);
        assertNull(Tcp.validate(s, 0, 20 + len, 1, 2));
        TcpOptions p = new TcpOptions();
        assertTrue(p.parse(s, 0));
        assertEquals(o.mss, p.mss);
        assertEquals(o.windowScale, p.windowScale);
        assertEquals(o.sackPermitted, p.sackPermitted);
        assertEquals(o.hasTimestamps, p.hasTimestamps);
        assertEquals(o.tsVal, p.tsVal);
        assertEquals(o.tsEcr, p.tsEcr);
        assertEquals(o.sackBlockCount, p.sackBlockCount);
        for (int i = 0; i < blocks; i++) {
            assertEquals(o.sackLeft[i], p.sackLeft[i]);
            assertEquals(o.sackRight[i], p.sackRight[i]);
        }
    }

    @Property
    void randomOptionBytesNeverThrow(@ForAll byte[] raw) {
        int n = Math.min(raw.length, 40) & ~3;
        MemorySegment s = MemorySegment.ofArray(new byte[20 + n]);
        MemorySegment.copy(MemorySegment.ofArray(raw), 0, s, 20, n);
        Tcp.writeHeader(s, 0, 1, 2, 3, 4, 20 + n, Tcp.ACK, 5, 0);
        Tcp.writeChecksum(s, 0, 20 + n, 1, 2);
        WireError e = Tcp.validate(s, 0, 20 + n, 1, 2);
        TcpOptions p = new TcpOptions();
        boolean ok = p.parse(s, 0);
        assertEquals(e == null, ok, "validate and parse agree");
        byte[] copy = s.toArray(java.lang.foreign.ValueLayout.JAVA_BYTE);
        assertArrayEquals(copy, s.toArray(java.lang.foreign.ValueLayout.JAVA_BYTE));
    }
}
