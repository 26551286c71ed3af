package io.slipstream.tcp;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;

/** The engine's building blocks against simple reference models. */
class TcpBuildingBlockProperties {

    @Property
    void seqComparisonsHoldAcrossWrap(@ForAll int a, @ForAll @IntRange(min = 1, max = Integer.MAX_VALUE) int d) {
        int b = a + d;
        assertTrue(Seq.lt(a, b) && Seq.le(a, b) && Seq.gt(b, a) && Seq.ge(b, a));
        assertTrue(!Seq.lt(b, a) && !Seq.ge(a, b));
        assertEquals(b, Seq.max(a, b));
        assertEquals(a, Seq.min(a, b));
        assertTrue(Seq.inRange(a, a, b) && !Seq.inRange(b, a, b));
    }

    /** Ranges over a 4000-byte space starting at {@code base} (near the wrap when base is). */
    @Property
    void seqRangesMatchABitmapModel(@ForAll int base, @ForAll @Size(max = 60) List<@IntRange(max = 4_000_000) Integer> ops) {
        SeqRanges r = new SeqRanges(8);
        boolean[] model = new boolean[4000];
        int floor = 0;
        for (int op : ops) {
            int l = op % 4000;
            int len = (op / 4000) % 300 + 1;
            if (op % 7 == 0) {
                floor = Math.max(floor, l);
                r.removeBelow(base + floor);
                for (int i = 0; i < floor; i++) {
                    model[i] = false;
                }
                continue;
            }
            int from = Math.max(l, floor);
            int to = Math.min(l + len, 4000);
            if (from >= to) {
                continue;
            }
            SeqRanges before = copy(r);
            if (r.add(base + from, base + to)) {
                for (int i = from; i < to; i++) {
                    model[i] = true;
                }
            } else {
                assertEquals(8, before.count(), "refused only when full");
            }
            // disjoint, sorted, not touching
            for (int i = 0; i < r.count(); i++) {
                assertTrue(Seq.lt(r.left(i), r.right(i)));
                if (i > 0) {
                    assertTrue(Seq.lt(r.right(i - 1), r.left(i)), "merged when touching");
                }
            }
            for (int i = 0; i < 4000; i++) {
                boolean in = false;
                for (int k = 0; k < r.count(); k++) {
                    in |= Seq.inRange(base + i, r.left(k), r.right(k));
                }
                assertEquals(model[i], in, "byte " + i);
            }
            int[] ls = new int[4];
            int[] rs = new int[4];
            int n = r.sackBlocks(ls, rs, 3);
            assertEquals(Math.min(3, r.count()), n);
            if (n > 0 && r.covers(base + from, base + to)) {
                assertTrue(Seq.le(ls[0], base + from) && Seq.le(base + to, rs[0]),
                        "the first SACK block holds the latest data (RFC 2018 §4)");
            }
        }
    }

    private static SeqRanges copy(SeqRanges r) {
        SeqRanges c = new SeqRanges(8);
        for (int i = 0; i < r.count(); i++) {
            c.add(r.left(i), r.right(i));
        }
        return c;
    }

    @Property
    void byteRingMatchesAQueueModel(@ForAll @IntRange(min = 1, max = 5000) int capacity,
                                    @ForAll @Size(max = 50) List<@IntRange(max = 1_000_000) Integer> ops) {
        try (Arena arena = Arena.ofConfined()) {
            ByteRing ring = new ByteRing(arena.allocate(capacity));
            byte[] model = new byte[0];
            byte counter = 0;
            for (int op : ops) {
                int n = op % (capacity + 1);
                if (op % 3 == 0) {
                    byte[] src = new byte[n];
                    for (int i = 0; i < n; i++) {
                        src[i] = counter++;
                    }
                    int took = ring.append(MemorySegment.ofArray(src), 0, n);
                    assertEquals(Math.min(n, capacity - model.length), took);
                    byte[] m = java.util.Arrays.copyOf(model, model.length + took);
                    System.arraycopy(src, 0, m, model.length, took);
                    model = m;
                } else if (op % 3 == 1) {
                    int k = Math.min(n, model.length);
                    byte[] out = new byte[k];
                    ring.get(0, MemorySegment.ofArray(out), 0, k);
                    assertArrayEquals(java.util.Arrays.copyOf(model, k), out);
                    ring.consume(k);
                    model = java.util.Arrays.copyOfRange(model, k, model.length);
                } else if (model.length > 0) {
                    int off = n % model.length;
                    int k = Math.min(model.length - off, 10);
                    byte[] out = new byte[k];
                    ring.get(off, MemorySegment.ofArray(out), 0, k);
                    assertArrayEquals(java.util.Arrays.copyOfRange(model, off, off + k), out);
                }
                assertEquals(model.length, ring.size());
                assertEquals(capacity - model.length, ring.free());
            }
        }
    }

    @Property
    void sipHashIsKeyedAndDeterministic(@ForAll long k0, @ForAll long k1, @ForAll long m0, @ForAll long m1) {
        SipHash h = new SipHash(k0, k1);
        long v = h.hash(m0, m1);
        assertEquals(v, new SipHash(k0, k1).hash(m0, m1));
        assertTrue(v != new SipHash(k0 ^ 1, k1).hash(m0, m1) || v != h.hash(m0 ^ 1, m1),
                "changing a key or message bit changes the hash");
        byte[] unused = MemorySegment.ofArray(new byte[1]).toArray(ValueLayout.JAVA_BYTE);
        assertEquals(1, unused.length);
    }
}
