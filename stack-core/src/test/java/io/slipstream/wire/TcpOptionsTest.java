package io.slipstream.wire;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.Test;

/** Malformed and edge-case option areas and headers. */
class TcpOptionsTest {

    private static MemorySegment segmentWithOptions(int... optionBytes) {
        int n = (optionBytes.length + 3) & ~3;
        MemorySegment s = MemorySegment.ofArray(new byte[20 + n]);
        for (int i = 0; i < optionBytes.length; i++) {
            Bytes.putU8(s, 20 + i, optionBytes[i]);
        }
        Tcp.writeHeader(s, 0, 1000, 2000, 1, 2, 20 + n, Tcp.SYN, 100, 0);
        Tcp.writeChecksum(s, 0, 20 + n, 0x0A000001, 0x0A000002);
        return s;
    }

    private static WireError validate(MemorySegment s) {
        return Tcp.validate(s, 0, (int) s.byteSize(), 0x0A000001, 0x0A000002);
    }

    @Test
    void optionLengthBelowTwoIsMalformed() {
        assertEquals(WireError.TCP_BAD_OPTIONS, validate(segmentWithOptions(99, 1, 0, 0)));
        assertEquals(WireError.TCP_BAD_OPTIONS, validate(segmentWithOptions(99, 0, 0, 0)));
    }

    @Test
    void optionRunningPastTheHeaderIsMalformed() {
        assertEquals(WireError.TCP_BAD_OPTIONS, validate(segmentWithOptions(1, 1, 99, 8)));
        assertEquals(WireError.TCP_BAD_OPTIONS, validate(segmentWithOptions(1, 1, 1, 2)), "kind without length byte");
    }

    @Test
    void knownOptionWithWrongLengthIsMalformed() {
        assertEquals(WireError.TCP_BAD_OPTIONS, validate(segmentWithOptions(2, 3, 5, 0)));
        assertEquals(WireError.TCP_BAD_OPTIONS, validate(segmentWithOptions(5, 6, 0, 0, 0, 0, 0, 0)));
    }

    @Test
    void unknownOptionsAreSkippedByLength() {
        MemorySegment s = segmentWithOptions(77, 4, 9, 9, 2, 4, 0x05, 0xB4);
        assertNull(validate(s));
        TcpOptions o = new TcpOptions();
        assertTrue(o.parse(s, 0));
        assertEquals(1460, o.mss);
    }

    @Test
    void endOfListStopsParsing() {
        MemorySegment s = segmentWithOptions(0, 2, 0, 0); // garbage after EOL is ignored
        TcpOptions o = new TcpOptions();
        assertTrue(o.parse(s, 0));
        assertEquals(-1, o.mss);
    }

    @Test
    void windowScaleAboveFourteenIsClamped() {
        TcpOptions o = new TcpOptions();
        assertTrue(o.parse(segmentWithOptions(3, 3, 20, 1), 0));
        assertEquals(14, o.windowScale);
    }

    @Test
    void truncatedAndBadHeaderLength() {
        MemorySegment s = MemorySegment.ofArray(new byte[24]);
        assertEquals(WireError.TCP_TRUNCATED, Tcp.validate(s, 0, 19, 1, 2));
        Tcp.writeHeader(s, 0, 1, 2, 3, 4, 24, 0, 0, 0);
        assertEquals(WireError.TCP_BAD_HEADER_LENGTH, Tcp.validate(s, 0, 20, 1, 2));
        Bytes.putU8(s, 12, 0x40); // data offset 4 words = 16 bytes
        assertEquals(WireError.TCP_BAD_HEADER_LENGTH, Tcp.validate(s, 0, 24, 1, 2));
    }

    @Test
    void tooManyOptionsRefuseToWrite() {
        TcpOptions o = new TcpOptions();
        o.hasTimestamps = true;
        for (int i = 0; i < 4; i++) {
            o.addSackBlock(i, i + 1);
        }
        assertThrows(IllegalStateException.class, () -> o.write(MemorySegment.ofArray(new byte[80]), 0));
        o.addSackBlock(9, 10);
        assertEquals(4, o.sackBlockCount, "a fifth block is ignored");
    }

    @Test
    void badChecksumIsReported() {
        MemorySegment s = segmentWithOptions(1, 1, 1, 1);
        Bytes.putU16(s, 16, Tcp.checksum(s, 0) ^ 1);
        assertEquals(WireError.TCP_BAD_CHECKSUM, validate(s));
        assertFalse(Tcp.flagString(Tcp.SYN | Tcp.ACK).isEmpty());
    }
}
