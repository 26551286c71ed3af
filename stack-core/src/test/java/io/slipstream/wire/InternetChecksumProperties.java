package io.slipstream.wire;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Assume;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.RandomDistribution;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;

/** {@link InternetChecksum} against a plain RFC 1071 reference and its own algebra. */
class InternetChecksumProperties {

    @Provide
    Arbitrary<byte[]> data() {
        // Lengths spread evenly up to a jumbo frame (jqwik favours short arrays by default);
        // the arbitrary's edge cases still add the empty and one-byte arrays.
        return Arbitraries.bytes().array(byte[].class).ofMinSize(0).ofMaxSize(9000)
                .withSizeDistribution(RandomDistribution.uniform());
    }

    @Property
    void sumEqualsReferenceAtAnyOffset(@ForAll("data") byte[] data, @ForAll @IntRange(max = 15) int lead) {
        try (Arena arena = Arena.ofConfined()) {
            // Put the data at an arbitrary (also odd) offset inside a larger native segment.
            byte[] padded = new byte[lead + data.length];
            System.arraycopy(data, 0, padded, lead, data.length);
            MemorySegment s = Frames.copyOf(arena, padded);
            int ours = InternetChecksum.fold(InternetChecksum.sum(s, lead, data.length, 0));
            assertEquals(Frames.referenceSum(data, 0, data.length), ours);
            assertEquals(~ours & 0xFFFF, InternetChecksum.compute(s, lead, data.length));
        }
    }

    @Property
    void heapAndNativeSegmentsSumAlike(@ForAll("data") byte[] data) {
        try (Arena arena = Arena.ofConfined()) {
            long onHeap = InternetChecksum.sum(MemorySegment.ofArray(data), 0, data.length, 0);
            long offHeap = InternetChecksum.sum(Frames.copyOf(arena, data), 0, data.length, 0);
            assertEquals(onHeap, offHeap);
        }
    }

    @Property
    void chainedEvenPartsEqualOnePass(@ForAll("data") byte[] data,
                                      @ForAll @Size(max = 8) List<@IntRange(max = 4500) Integer> cuts) {
        MemorySegment s = MemorySegment.ofArray(data);
        long acc = 0;
        int pos = 0;
        for (int half : cuts.stream().sorted().toList()) {
            int cut = Math.min(2 * half, data.length - data.length % 2);
            if (cut > pos) {
                acc = InternetChecksum.sum(s, pos, cut - pos, acc);
                pos = cut;
            }
        }
        acc = InternetChecksum.sum(s, pos, data.length - pos, acc);
        assertEquals(InternetChecksum.fold(InternetChecksum.sum(s, 0, data.length, 0)), InternetChecksum.fold(acc));
    }

    @Property
    void foldIsEndAroundCarryModulo65535(@ForAll long acc) {
        Assume.that(acc >= 0);
        int folded = InternetChecksum.fold(acc);
        assertTrue(folded >= 0 && folded <= 0xFFFF);
        // One's-complement arithmetic is arithmetic modulo 2^16 - 1, with 0 only for a zero sum.
        assertEquals(acc % 0xFFFF, folded % 0xFFFF);
        assertEquals(acc == 0, folded == 0);
    }

    @Provide
    Arbitrary<byte[]> evenData() {
        return Arbitraries.bytes().array(byte[].class).ofMinSize(2).ofMaxSize(1500)
                .filter(b -> b.length % 2 == 0);
    }

    @Property
    void filledInChecksumVerifies(@ForAll("evenData") byte[] data, @ForAll @IntRange(max = 749) int word) {
        int at = 2 * (word % (data.length / 2));
        MemorySegment s = MemorySegment.ofArray(data);
        Bytes.putU16(s, at, 0);
        Bytes.putU16(s, at, InternetChecksum.compute(s, 0, data.length));
        assertTrue(InternetChecksum.verifies(InternetChecksum.sum(s, 0, data.length, 0)));
    }

    @Property
    void anySingleBitErrorIsDetected(@ForAll("evenData") byte[] data, @ForAll @IntRange(max = 749) int word,
                                     @ForAll @IntRange(max = 11999) int bit) {
        int at = 2 * (word % (data.length / 2));
        MemorySegment s = MemorySegment.ofArray(data);
        Bytes.putU16(s, at, 0);
        Bytes.putU16(s, at, InternetChecksum.compute(s, 0, data.length));
        int flip = bit % (data.length * 8);
        data[flip / 8] ^= (byte) (1 << (flip % 8));
        assertFalse(InternetChecksum.verifies(InternetChecksum.sum(s, 0, data.length, 0)));
    }

    /**
     * RFC 1624 eqn. 3 gives exactly the recomputed checksum, except when the covered data
     * becomes all zeros: see {@link #adjustToAllZeroDataGivesNegativeZero}.
     */
    @Property
    void adjustEqualsRecompute(@ForAll("evenData") byte[] data, @ForAll @IntRange(max = 749) int checksumWord,
                               @ForAll @IntRange(max = 749) int changedWord, @ForAll @IntRange(max = 0xFFFF) int value) {
        assertAdjustEqualsRecompute(data, checksumWord, changedWord, 2, value, InternetChecksum::adjust);
    }

    @Property
    void adjust32EqualsRecompute(@ForAll("evenData") byte[] data, @ForAll @IntRange(max = 749) int checksumWord,
                                 @ForAll @IntRange(max = 749) int changedWord, @ForAll int value) {
        assertAdjustEqualsRecompute(data, checksumWord, changedWord, 4, value, InternetChecksum::adjust32);
    }

    /** {@code adjust} or {@code adjust32}: (checksum, old field value, new field value) to new checksum. */
    private interface Adjustment {
        int apply(int checksum, int oldValue, int newValue);
    }

    /**
     * Fills in a checksum at word {@code checksumWord}, changes the 16- or 32-bit field at word
     * {@code changedWord} to {@code value}, and compares the adjusted checksum with a recompute.
     */
    private static void assertAdjustEqualsRecompute(byte[] data, int checksumWord, int changedWord, int fieldBytes,
                                                    int value, Adjustment adjustment) {
        int words = data.length / 2;
        int fieldWords = fieldBytes / 2;
        Assume.that(words > fieldWords);
        int c = 2 * (checksumWord % words);
        int m = 2 * (changedWord % (words - fieldWords + 1));
        Assume.that(c < m || c >= m + fieldBytes);
        MemorySegment s = MemorySegment.ofArray(data);
        int before = fillChecksum(s, data.length, c);
        int old = fieldBytes == 2 ? Bytes.u16(s, m) : Bytes.u32(s, m);
        if (fieldBytes == 2) {
            Bytes.putU16(s, m, value);
        } else {
            Bytes.putU32(s, m, value);
        }
        Assume.that(!coveredDataIsZero(data, c));
        int recomputed = fillChecksum(s, data.length, c);
        assertEquals(recomputed, adjustment.apply(before, old, value));
    }

    /**
     * The one case where eqn. 3 and a recompute differ (RFC 1624 §3: the two zeros of one's
     * complement): when every covered word becomes zero, a recompute gives 0xFFFF, eqn. 3 gives
     * 0x0000, which does not verify. Callers whose data can be all zeros must handle it (see
     * {@link Icmp#requestToReply}); IP, UDP and TCP never are (version, pseudo-header).
     */
    @Example
    void adjustToAllZeroDataGivesNegativeZero() {
        byte[] data = {0x08, 0x00, 0, 0, 0, 0, 0, 0};
        MemorySegment s = MemorySegment.ofArray(data);
        int before = fillChecksum(s, data.length, 2);
        assertEquals(0xF7FF, before);
        Bytes.putU16(s, 0, 0);
        assertEquals(0xFFFF, fillChecksum(s, data.length, 2));
        assertEquals(0x0000, InternetChecksum.adjust(before, 0x0800, 0));
    }

    @Property
    void pseudoHeaderSumEqualsSummingItsBytes(@ForAll int src, @ForAll int dst,
                                              @ForAll @IntRange(max = 255) int protocol,
                                              @ForAll @IntRange(max = 0xFFFF) int length) {
        // RFC 768: source, destination, zero, protocol, UDP length.
        MemorySegment p = MemorySegment.ofArray(new byte[12]);
        Bytes.putU32(p, 0, src);
        Bytes.putU32(p, 4, dst);
        Bytes.putU8(p, 9, protocol);
        Bytes.putU16(p, 10, length);
        assertEquals(InternetChecksum.fold(InternetChecksum.sum(p, 0, 12, 0)),
                InternetChecksum.fold(InternetChecksum.pseudoHeaderSum(src, dst, protocol, length)));
    }

    @Example
    void rfc1071NumericalExample() {
        // RFC 1071 §3: the words 0001 f203 f4f5 f6f7 sum to ddf2 (folded).
        byte[] data = {0x00, 0x01, (byte) 0xf2, 0x03, (byte) 0xf4, (byte) 0xf5, (byte) 0xf6, (byte) 0xf7};
        assertEquals(0xddf2, InternetChecksum.fold(InternetChecksum.sum(MemorySegment.ofArray(data), 0, 8, 0)));
        assertEquals(0x220d, InternetChecksum.compute(MemorySegment.ofArray(data), 0, 8));
    }

    /** Zeroes the checksum word at {@code at}, computes the checksum there and returns it. */
    private static int fillChecksum(MemorySegment s, int length, int at) {
        Bytes.putU16(s, at, 0);
        int c = InternetChecksum.compute(s, 0, length);
        Bytes.putU16(s, at, c);
        return c;
    }

    private static boolean coveredDataIsZero(byte[] data, int checksumAt) {
        for (int i = 0; i < data.length; i++) {
            if (data[i] != 0 && i != checksumAt && i != checksumAt + 1) {
                return false;
            }
        }
        return true;
    }
}
