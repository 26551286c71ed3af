package io.slipstream.wire;

import java.lang.foreign.MemorySegment;

/**
 * The Internet checksum (RFC 1071): the 16-bit one's-complement of the one's-complement sum.
 *
 * <p>{@link #sum} accumulates 8 bytes per step into a 64-bit accumulator: adding the two
 * 32-bit halves of each big-endian long and folding at the end gives the same result as
 * adding 16-bit words, because 2^16 ≡ 1 (mod 2^16 - 1). A 64 KiB datagram adds at most
 * 2^13 terms below 2^33, so the accumulator cannot overflow.
 *
 * <p>Partial sums can be chained ({@code sum(b, sum(a, 0))}) as long as every part but the
 * last has an even length. {@link #adjust} updates a checksum for a changed field without
 * re-reading the packet (RFC 1624, eqn. 3).
 */
public final class InternetChecksum {
    private InternetChecksum() {}

    /** Adds {@code len} bytes at {@code off} to the running sum {@code acc}. */
    public static long sum(MemorySegment s, long off, int len, long acc) {
        int i = 0;
        for (; i + 8 <= len; i += 8) {
            long v = s.get(Bytes.U64, off + i);
            acc += (v >>> 32) + (v & 0xFFFF_FFFFL);
        }
        if (i + 4 <= len) {
            acc += s.get(Bytes.U32, off + i) & 0xFFFF_FFFFL;
            i += 4;
        }
        if (i + 2 <= len) {
            acc += s.get(Bytes.U16, off + i) & 0xFFFF;
            i += 2;
        }
        if (i < len) {
            acc += (long) Bytes.u8(s, off + i) << 8;
        }
        return acc;
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
