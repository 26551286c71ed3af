package io.slipstream.relay;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * One direction of the relay without sockets: IPv4 frames numbered in their payload go in, and
 * what the sink receives shows each impairment at the rate asked, seeded, and nothing else.
 */
class ImpairedDirectionTest {
    private static final int FRAME = 100;
    private static final int SLOTS = 256;

    private final Arena arena = Arena.ofConfined();
    private final MemorySegment in = arena.allocate(FRAME);
    private final List<byte[]> sent = new ArrayList<>();
    private final FrameSink recorder = (address, length) -> {
        sent.add(MemorySegment.ofAddress(address).reinterpret(length).toArray(ValueLayout.JAVA_BYTE));
        return FrameSink.SENT;
    };

    @AfterEach
    void free() {
        arena.close();
    }

    @Test
    void seededLossDropsTheConfiguredShareAndTheSameFramesEveryRun() {
        List<Integer> first = numbersAfter(run(Impairment.loss(0.2), 42, 20_000));
        List<Integer> again = numbersAfter(run(Impairment.loss(0.2), 42, 20_000));
        double lost = 1 - first.size() / 20_000.0;
        assertTrue(Math.abs(lost - 0.2) < 0.015, "lost " + lost);
        assertEquals(first, again, "the same seed loses the same frames");
        assertNotEquals(first, numbersAfter(run(Impairment.loss(0.2), 43, 20_000)), "another seed, other frames");
        assertEquals(first.stream().sorted().toList(), first, "loss alone keeps the order");
    }

    @Test
    void corruptionChangesOneByteAfterTheEthernetHeader() {
        ImpairedDirection d = run(Impairment.NONE.withCorruption(0.1), 7, 5_000);
        int changed = 0;
        assertEquals(5_000, sent.size(), "none lost");
        for (int n = 0; n < sent.size(); n++) {
            byte[] f = sent.get(n);
            byte[] expected = frame(n);
            int diffs = 0;
            for (int i = 0; i < FRAME; i++) {
                if (f[i] != expected[i]) {
                    diffs++;
                    assertTrue(i >= 14, "byte " + i + " is in the Ethernet header");
                }
            }
            assertTrue(diffs <= 1, diffs + " bytes changed");
            changed += diffs;
        }
        assertEquals(d.counters().get(RelayCounter.CORRUPTED), changed, "every corruption counted changed a byte");
        assertTrue(Math.abs(changed / 5_000.0 - 0.1) < 0.02, changed + " corrupted");
    }

    @Test
    void reorderHoldsAFrameBehindTheNextDepthFramesAndLosesNone() {
        ImpairedDirection d = run(Impairment.NONE.withReorder(0.25, 3), 9, 4_000);
        List<Integer> got = numbers();
        assertEquals(4_000, got.size(), "all arrive");
        assertEquals(4_000, got.stream().distinct().count());
        int late = 0;
        for (int i = 1; i < got.size(); i++) {
            if (got.get(i) < got.get(i - 1)) {
                late++;
            }
        }
        assertTrue(late > 500, late + " frames arrived after a later one");
        assertTrue(Math.abs(d.counters().get(RelayCounter.REORDERED) / 4_000.0 - 0.25) < 0.03, d.counters()::toString);
    }

    @Test
    void duplicationSendsSomeFramesTwiceRightAfterThemselves() {
        ImpairedDirection d = run(Impairment.NONE.withDuplication(0.05), 11, 10_000);
        List<Integer> got = numbers();
        long dups = got.size() - 10_000;
        assertEquals(d.counters().get(RelayCounter.DUPLICATED), dups);
        assertTrue(Math.abs(dups / 10_000.0 - 0.05) < 0.01, dups + " duplicates");
        for (int i = 1; i < got.size(); i++) {
            assertTrue(got.get(i) >= got.get(i - 1), "in order, a duplicate next to its original");
        }
    }

    @Test
    void framesOtherThanIpv4PassUnimpaired() {
        MemorySegment arp = arena.allocate(60);
        arp.set(ValueLayout.JAVA_BYTE, 12, (byte) 0x08);
        arp.set(ValueLayout.JAVA_BYTE, 13, (byte) 0x06);
        ImpairedDirection d = new ImpairedDirection("t", Impairment.loss(1.0), 1, SLOTS, recorder, arena);
        for (int i = 0; i < 100; i++) {
            d.accept(arp, 60, 0);
            d.release(0);
        }
        assertEquals(100, sent.size());
        assertEquals(100, d.counters().get(RelayCounter.UNIMPAIRED));
    }

    @Test
    void delayHoldsFramesUntilTheyAreDueAndPushBackKeepsThemQueued() {
        ImpairedDirection d = new ImpairedDirection("t", Impairment.NONE.withDelay(5_000_000), 1, SLOTS, recorder, arena);
        d.accept(frameIn(0), FRAME, 1_000);
        d.release(1_000);
        assertEquals(0, sent.size());
        assertEquals(5_001_000, d.nextDueNs());
        d.release(5_001_000);
        assertEquals(1, sent.size());
        int[] refusals = {2};
        ImpairedDirection busy = new ImpairedDirection("t", Impairment.NONE, 1, SLOTS,
                (address, length) -> refusals[0]-- > 0 ? FrameSink.BUSY : recorder.send(address, length), arena);
        busy.accept(frameIn(1), FRAME, 0);
        busy.release(0);
        busy.release(0);
        assertEquals(1, busy.waiting());
        busy.release(0);
        assertEquals(List.of(0, 1), numbers());
        assertEquals(2, busy.counters().get(RelayCounter.TX_RETRIES));
    }

    @Test
    void parseReadsPercentagesAndToStringWritesThemBack() {
        Impairment m = Impairment.parse("loss=1,reorder=25,dup=5,corrupt=1,delay=2");
        assertEquals(0.01, m.lossRate(), 1e-12);
        assertEquals(0.25, m.reorderRate(), 1e-12);
        assertEquals(0.05, m.duplicateRate(), 1e-12);
        assertEquals(2_000_000, m.delayNs());
        assertEquals(m, Impairment.parse(m.toString()));
        assertEquals(Impairment.NONE, Impairment.parse("none"));
        assertThrows(IllegalArgumentException.class, () -> Impairment.parse("loss=150"));
        assertThrows(IllegalArgumentException.class, () -> Impairment.parse("jitter=3"));
    }

    /** Feeds {@code count} numbered frames through a direction with no delay. */
    private ImpairedDirection run(Impairment impairment, long seed, int count) {
        sent.clear();
        ImpairedDirection d = new ImpairedDirection("t", impairment, seed, SLOTS, recorder, arena);
        for (int i = 0; i < count; i++) {
            d.accept(frameIn(i), FRAME, i);
            d.release(i);
        }
        d.release(Long.MAX_VALUE / 2); // the hold limit lets the last held frames go
        assertEquals(0, d.waiting());
        return d;
    }

    private MemorySegment frameIn(int n) {
        MemorySegment.copy(MemorySegment.ofArray(frame(n)), 0, in, 0, FRAME);
        return in;
    }

    /** An IPv4 frame whose bytes are a function of its number, which it carries at offset 40. */
    private static byte[] frame(int n) {
        byte[] f = new byte[FRAME];
        for (int i = 0; i < FRAME; i++) {
            f[i] = (byte) (i * 31 + n);
        }
        f[12] = 0x08;
        f[13] = 0x00;
        f[40] = (byte) (n >>> 24);
        f[41] = (byte) (n >>> 16);
        f[42] = (byte) (n >>> 8);
        f[43] = (byte) n;
        return f;
    }

    private static int number(byte[] f) {
        return (f[40] & 0xff) << 24 | (f[41] & 0xff) << 16 | (f[42] & 0xff) << 8 | (f[43] & 0xff);
    }

    private List<Integer> numbers() {
        return sent.stream().map(ImpairedDirectionTest::number).toList();
    }

    private List<Integer> numbersAfter(ImpairedDirection ran) {
        return numbers();
    }
}
