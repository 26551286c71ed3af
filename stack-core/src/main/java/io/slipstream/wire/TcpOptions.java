package io.slipstream.wire;

import java.lang.foreign.MemorySegment;

/**
 * TCP options (RFC 9293 §3.2, RFC 7323, RFC 2018) in a reusable mutable holder: one instance
 * per layer is parsed into for every received segment and one per connection written from, so
 * nothing is allocated per segment. Unknown options are skipped by their length.
 */
public final class TcpOptions {
    public static final int KIND_EOL = 0;
    public static final int KIND_NOP = 1;
    public static final int KIND_MSS = 2;
    public static final int KIND_WINDOW_SCALE = 3;
    public static final int KIND_SACK_PERMITTED = 4;
    public static final int KIND_SACK = 5;
    public static final int KIND_TIMESTAMPS = 8;

    /** RFC 2018: at most 4 blocks fit in 40 bytes (3 with timestamps). */
    public static final int MAX_SACK_BLOCKS = 4;
    /** RFC 7323 §2.3: shift counts above 14 are treated as 14. */
    public static final int MAX_WINDOW_SCALE = 14;

    /** MSS option value, or -1 when absent. */
    public int mss = -1;
    /** Window scale shift, or -1 when absent (clamped to 14 when parsed). */
    public int windowScale = -1;
    public boolean sackPermitted;
    public boolean hasTimestamps;
    public int tsVal;
    public int tsEcr;
    public int sackBlockCount;
    /** Left and right edges of the SACK blocks, {@code sackLeft[i]..sackRight[i]}. */
    public final int[] sackLeft = new int[MAX_SACK_BLOCKS];
    public final int[] sackRight = new int[MAX_SACK_BLOCKS];

    public void clear() {
        mss = -1;
        windowScale = -1;
        sackPermitted = false;
        hasTimestamps = false;
        tsVal = 0;
        tsEcr = 0;
        sackBlockCount = 0;
    }

    /** Whether the option area of {@code len} bytes parses: every option's length fits. */
    public static boolean wellFormed(MemorySegment s, long off, int len) {
        return scan(s, off, len, null);
    }

    private static boolean lengthFits(int kind, int olen) {
        return switch (kind) {
            case KIND_MSS -> olen == 4;
            case KIND_WINDOW_SCALE -> olen == 3;
            case KIND_SACK_PERMITTED -> olen == 2;
            case KIND_TIMESTAMPS -> olen == 10;
            case KIND_SACK -> olen >= 10 && (olen - 2) % 8 == 0;
            default -> true;
        };
    }

    /**
     * Parses the options of the TCP header at {@code off} (the header's length was already
     * validated). Returns false, leaving the holder partly filled, on a malformed option.
     */
    public boolean parse(MemorySegment s, long off) {
        clear();
        int hl = Tcp.headerLength(s, off);
        return parse(s, off + Tcp.MIN_HEADER_LENGTH, hl - Tcp.MIN_HEADER_LENGTH);
    }

    /** Parses an option area of {@code len} bytes at {@code off}. */
    public boolean parse(MemorySegment s, long off, int len) {
        clear();
        return scan(s, off, len, this);
    }

    /** Walks the option area, checking each length; fills {@code into} unless it is null. */
    private static boolean scan(MemorySegment s, long off, int len, TcpOptions into) {
        int i = 0;
        while (i < len) {
            int kind = Bytes.u8(s, off + i);
            if (kind == KIND_EOL) {
                return true;
            }
            if (kind == KIND_NOP) {
                i++;
                continue;
            }
            if (i + 1 >= len) {
                return false;
            }
            int olen = Bytes.u8(s, off + i + 1);
            if (olen < 2 || i + olen > len || !lengthFits(kind, olen)) {
                return false;
            }
            if (into != null) {
                into.take(kind, olen, s, off + i + 2);
            }
            i += olen;
        }
        return true;
    }

    private void take(int kind, int olen, MemorySegment s, long o) {
        switch (kind) {
            case KIND_MSS -> mss = Bytes.u16(s, o);
            case KIND_WINDOW_SCALE -> windowScale = Math.min(Bytes.u8(s, o), MAX_WINDOW_SCALE);
            case KIND_SACK_PERMITTED -> sackPermitted = true;
            case KIND_TIMESTAMPS -> {
                hasTimestamps = true;
                tsVal = Bytes.u32(s, o);
                tsEcr = Bytes.u32(s, o + 4);
            }
            case KIND_SACK -> {
                int n = Math.min((olen - 2) / 8, MAX_SACK_BLOCKS);
                for (int b = 0; b < n; b++) {
                    sackLeft[b] = Bytes.u32(s, o + 8L * b);
                    sackRight[b] = Bytes.u32(s, o + 8L * b + 4);
                }
                sackBlockCount = n;
            }
            default -> { /* unknown: skipped by its length (RFC 9293 §3.2) */ }
        }
    }

    /** Bytes {@link #write} will produce, padded to a multiple of 4. */
    public int encodedLength() {
        int n = 0;
        if (mss >= 0) {
            n += 4;
        }
        if (windowScale >= 0) {
            n += 4; // NOP + 3
        }
        if (sackPermitted && hasTimestamps) {
            n += 2; // shares the timestamp option's alignment NOPs
        } else if (sackPermitted) {
            n += 4;
        }
        if (hasTimestamps) {
            n += sackPermitted ? 10 : 12;
        }
        if (sackBlockCount > 0) {
            n += 4 + 8 * sackBlockCount; // NOP NOP + kind/len + blocks
        }
        return (n + 3) & ~3;
    }

    /**
     * Writes the options at {@code off}, aligned the way common stacks do so that the
     * timestamp fields are 32-bit aligned, padded with EOL/NOP to a multiple of 4. Returns the
     * length written; fails if it would exceed the 40-byte option space.
     */
    public int write(MemorySegment s, long off) {
        int len = encodedLength();
        if (len > Tcp.MAX_HEADER_LENGTH - Tcp.MIN_HEADER_LENGTH) {
            throw new IllegalStateException("TCP options need " + len + " bytes, more than 40");
        }
        long p = off;
        if (mss >= 0) {
            Bytes.putU8(s, p, KIND_MSS);
            Bytes.putU8(s, p + 1, 4);
            Bytes.putU16(s, p + 2, mss);
            p += 4;
        }
        if (sackPermitted && hasTimestamps) {
            Bytes.putU8(s, p, KIND_SACK_PERMITTED);
            Bytes.putU8(s, p + 1, 2);
            p += 2;
            p = putTimestamps(s, p);
        } else {
            if (sackPermitted) {
                Bytes.putU8(s, p, KIND_NOP);
                Bytes.putU8(s, p + 1, KIND_NOP);
                Bytes.putU8(s, p + 2, KIND_SACK_PERMITTED);
                Bytes.putU8(s, p + 3, 2);
                p += 4;
            }
            if (hasTimestamps) {
                Bytes.putU8(s, p, KIND_NOP);
                Bytes.putU8(s, p + 1, KIND_NOP);
                p = putTimestamps(s, p + 2);
            }
        }
        if (windowScale >= 0) {
            Bytes.putU8(s, p, KIND_NOP);
            Bytes.putU8(s, p + 1, KIND_WINDOW_SCALE);
            Bytes.putU8(s, p + 2, 3);
            Bytes.putU8(s, p + 3, windowScale);
            p += 4;
        }
        if (sackBlockCount > 0) {
            Bytes.putU8(s, p, KIND_NOP);
            Bytes.putU8(s, p + 1, KIND_NOP);
            Bytes.putU8(s, p + 2, KIND_SACK);
            Bytes.putU8(s, p + 3, 2 + 8 * sackBlockCount);
            p += 4;
            for (int b = 0; b < sackBlockCount; b++) {
                Bytes.putU32(s, p, sackLeft[b]);
                Bytes.putU32(s, p + 4, sackRight[b]);
                p += 8;
            }
        }
        while (p < off + len) {
            Bytes.putU8(s, p++, KIND_EOL);
        }
        return len;
    }

    private long putTimestamps(MemorySegment s, long p) {
        Bytes.putU8(s, p, KIND_TIMESTAMPS);
        Bytes.putU8(s, p + 1, 10);
        Bytes.putU32(s, p + 2, tsVal);
        Bytes.putU32(s, p + 6, tsEcr);
        return p + 10;
    }

    /** Adds a SACK block; ignored once {@link #MAX_SACK_BLOCKS} are present. */
    public void addSackBlock(int left, int right) {
        if (sackBlockCount < MAX_SACK_BLOCKS) {
            sackLeft[sackBlockCount] = left;
            sackRight[sackBlockCount] = right;
            sackBlockCount++;
        }
    }

    @Override
    public String toString() {
        StringBuilder b = new StringBuilder("TcpOptions[");
        if (mss >= 0) b.append("mss=").append(mss).append(' ');
        if (windowScale >= 0) b.append("ws=").append(windowScale).append(' ');
        if (sackPermitted) b.append("sackOK ");
        if (hasTimestamps) b.append("ts=").append(Integer.toUnsignedString(tsVal)).append('/')
                .append(Integer.toUnsignedString(tsEcr)).append(' ');
        for (int i = 0; i < sackBlockCount; i++) {
            b.append("sack=").append(Integer.toUnsignedString(sackLeft[i])).append('-')
                    .append(Integer.toUnsignedString(sackRight[i])).append(' ');
        }
        return b.append(']').toString();
    }
}
