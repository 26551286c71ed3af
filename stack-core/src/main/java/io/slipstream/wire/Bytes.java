package io.slipstream.wire;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * Network-byte-order field access over a {@link MemorySegment}. Every wire codec reads and
 * writes through these so that headers are parsed in place, unaligned, with no copies.
 * Unsigned results are widened: u16 into an int, u32 into an int (the caller masks with
 * {@code & 0xFFFF_FFFFL} where it needs the unsigned value).
 */
public final class Bytes {
    private Bytes() {}

    static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);

    public static int u8(MemorySegment s, long off) {
        return s.get(ValueLayout.JAVA_BYTE, off) & 0xFF;
    }

    public static int u16(MemorySegment s, long off) {
        return s.get(U16, off) & 0xFFFF;
    }

    public static int u32(MemorySegment s, long off) {
        return s.get(U32, off);
    }

    /** 48-bit MAC address, returned in the low bits of a long. */
    public static long u48(MemorySegment s, long off) {
        return ((long) u16(s, off) << 32) | (u32(s, off + 2) & 0xFFFF_FFFFL);
    }

    public static void putU8(MemorySegment s, long off, int v) {
        s.set(ValueLayout.JAVA_BYTE, off, (byte) v);
    }

    public static void putU16(MemorySegment s, long off, int v) {
        s.set(U16, off, (short) v);
    }

    public static void putU32(MemorySegment s, long off, int v) {
        s.set(U32, off, v);
    }

    public static void putU48(MemorySegment s, long off, long v) {
        putU16(s, off, (int) (v >>> 32));
        putU32(s, off + 2, (int) v);
    }
}
