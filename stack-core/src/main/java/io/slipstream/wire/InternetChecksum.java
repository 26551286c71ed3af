package io.slipstream.wire;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * The Internet checksum (RFC 1071): the 16-bit one's-complement of the one's-complement sum.
 *
 * <p>{@link #sum} reads the bytes as little-endian longs, 16 bytes per step into two 64-bit
 * accumulators (the native order of the machines we run on, so no load swaps bytes, and two
 * chains of additions run side by side). Adding the 32-bit halves of each long and folding at
 * the end gives the sum of the 16-bit words, because 2^16 ≡ 1 (mod 2^16 - 1); summed in
 * little-endian order, that is the big-endian sum with its two bytes swapped (RFC 1071 §2(B)),
 * so the folded result is swapped back before it joins the running sum. A 64 KiB datagram adds
 * at most 2^12 terms below 2^33 to each accumulator, so neither can overflow.
 *
 * <p>Partial sums can be chained ({@code sum(b, sum(a, 0))}) as long as every part but the
 * last has an even length. {@link #adjust} updates a checksum for a changed field without
 * re-reading the packet (RFC 1624, eqn. 3).
 */
public final class InternetChecksum {
    private static final ValueLayout.OfLong LE64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt LE32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort LE16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private InternetChecksum() {}

    /** Adds {@code len} bytes at {@code off} to the running sum {@code acc}. */
    public static long sum(MemorySegment s, long off, int len, long acc) {
        long even = 0;
        long odd = 0;
        int i = 0;
        for (; i + 16 <= len; i += 16) {
            long v = s.get(LE64, off + i);
            long w = s.get(LE64, off + i + 8);
            even += (v >>> 32) + (v & 0xFFFF_FFFFL);
            odd += (w >>> 32) + (w & 0xFFFF_FFFFL);
        }
        long le = even + odd;
        if (i + 8 <= len) {
            long v = s.get(LE64, off + i);
            le += (v >>> 32) + (v & 0xFFFF_FFFFL);
            i += 8;
        }
        if (i + 4 <= len) {
            le += s.get(LE32, off + i) & 0xFFFF_FFFFL;
            i += 4;
        }
        if (i + 2 <= len) {
            le += s.get(LE16, off + i) & 0xFFFF;
            i += 2;
        }
        if (i < len) {
            le += Bytes.u8(s, off + i); // the low byte of a little-endian word: the high byte big-endian
        }
        int folded = fold(le);
        return acc + (((folded & 0xFF) << 8) | (folded >>> 8));
    }

    /** The sum of the IPv4 pseudo-header for TCP and UDP (RFC 9293 §3.1, RFC 768). */
    public static long pseudoHeaderSum(int srcAddr, int dstAddr, int protocol, int length) {
        return (srcAddr & 0xFFFF_FFFFL) + (dstAddr & 0xFFFF_FFFFL) + protocol + length;
    }

    /** Folds a running sum to 16 bits (end-around carry). */
    public static int fold(long acc) {
        acc = (acc & 0xFFFF_FFFFL) + (acc >>> 32);
        acc = (acc & 0xFFFF) + (acc >>> 16);
        acc = (acc & 0xFFFF) + (acc >>> 16);
        acc = (acc & 0xFFFF) + (acc >>> 16);
        return (int) acc;
    }

    /** The checksum field value for a finished running sum. */
    public static int finish(long acc) {
        return ~fold(acc) & 0xFFFF;
    }

    /** Checksum of a byte range on its own (IPv4 and ICMP headers). */
    public static int compute(MemorySegment s, long off, int len) {
        return finish(sum(s, off, len, 0));
    }

    /**
     * True when a range that includes its own checksum field verifies, i.e. sums to 0xFFFF.
     */
    public static boolean verifies(long acc) {
        return fold(acc) == 0xFFFF;
    }

    /**
     * RFC 1624 incremental update: the new checksum after a 16-bit word of the covered data
     * changes from {@code oldWord} to {@code newWord}. HC' = ~(~HC + ~m + m').
     */
    public static int adjust(int checksum, int oldWord, int newWord) {
        long acc = (~checksum & 0xFFFF) + (~oldWord & 0xFFFF) + (newWord & 0xFFFF);
        return ~fold(acc) & 0xFFFF;
    }

    /** RFC 1624 update for a changed 32-bit field (an address or a sequence number). */
    public static int adjust32(int checksum, int oldValue, int newValue) {
        long acc = (~checksum & 0xFFFF)
                + (~(oldValue >>> 16) & 0xFFFF) + (~oldValue & 0xFFFF)
                + ((newValue >>> 16) & 0xFFFF) + (newValue & 0xFFFF);
        return ~fold(acc) & 0xFFFF;
    }
}
