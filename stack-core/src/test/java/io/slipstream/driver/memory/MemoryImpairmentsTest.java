package io.slipstream.driver.memory;

import static io.slipstream.driver.memory.StackEnd.config;
import static io.slipstream.driver.memory.StackEnd.frame;
import static io.slipstream.driver.memory.StackEnd.linkName;
import static io.slipstream.driver.memory.StackEnd.seqOf;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.slipstream.nic.NicCounter;
import io.slipstream.time.VirtualClock;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class MemoryImpairmentsTest {
    private static final int FRAMES = 400;

    private final VirtualClock clock = new VirtualClock();

    /** What B saw of FRAMES frames A sent one by one over a link with {@code imp}. */
    private record Outcome(List<byte[]> received, long drops, long duplicates, long reorders, long corruptions,
            long completions) {
        List<Integer> seqs() {
            List<Integer> s = new ArrayList<>();
            for (byte[] f : received) {
                s.add(seqOf(f));
            }
            return s;
        }
    }

    private static int lengthOf(int seq) {
        return 60 + seq * 37 % 1400;
    }

    private Outcome run(Impairments imp) {
        String link = linkName("impair");
        MemoryLink.create(link, imp);
        try (StackEnd a = StackEnd.open(config(link, Map.of()), clock);
                StackEnd b = StackEnd.open(config(link, Map.of()), clock)) {
            b.fillRx();
            for (int seq = 0; seq < FRAMES; seq++) {
                a.send(frame(seq, lengthOf(seq)));
                b.poll();
                a.poll();
            }
            clock.advance(Impairments.REORDER_HOLD_NANOS + imp.delayNanos() + imp.jitterNanos());
            b.poll();
            a.poll();
            assertEquals(0, b.count(NicCounter.RX_NO_BUFFER));
            assertEquals(b.received.size(), b.count(NicCounter.RX_FRAMES));
            return new Outcome(b.received, a.count(NicCounter.LINK_DROPS), a.count(NicCounter.LINK_DUPLICATES),
                    a.count(NicCounter.LINK_REORDERS), a.count(NicCounter.LINK_CORRUPTIONS), a.completions);
        }
    }

    @Test
    void lossDropsExactlyTheCountedFramesAndTheRestArriveIntactInOrder() {
        Outcome o = run(Impairments.NONE.withLoss(0.3).withSeed(42));
        assertTrue(o.drops() > 60 && o.drops() < 180, "about 30% of " + FRAMES + " lost, got " + o.drops());
        assertEquals(FRAMES - o.drops(), o.received().size());
        assertEquals(FRAMES, o.completions(), "every sent buffer comes back, lost or not");
        int last = -1;
        for (byte[] f : o.received()) {
            int seq = seqOf(f);
            assertTrue(seq > last, "in order");
            last = seq;
            assertArrayEquals(frame(seq, lengthOf(seq)), f);
        }
    }

    @Test
    void theSameSeedGivesTheSameDropsAndAnotherSeedOtherDrops() {
        Impairments imp = Impairments.NONE.withLoss(0.3).withSeed(1234);
        List<Integer> first = run(imp).seqs();
        List<Integer> second = run(imp).seqs();
        List<Integer> otherSeed = run(imp.withSeed(4321)).seqs();
        assertEquals(first, second);
        assertNotEquals(first, otherSeed);
    }

    @Test
    void theSameSeedGivesTheSameFatesWhateverTheOtherDirectionDoes() {
        Impairments imp = Impairments.NONE.withLoss(0.2).withDuplicate(0.2).withCorrupt(0.2).withSeed(99);
        List<Integer> quiet = run(imp).seqs();
        // Same link settings, but B also sends to A between A's frames.
        String link = linkName("busy");
        MemoryLink.create(link, imp);
        try (StackEnd a = StackEnd.open(config(link, Map.of()), clock);
                StackEnd b = StackEnd.open(config(link, Map.of()), clock)) {
            a.fillRx();
            b.fillRx();
            for (int seq = 0; seq < FRAMES; seq++) {
                b.send(frame(10_000 + seq, 80));
                a.send(frame(seq, lengthOf(seq)));
                b.poll();
                a.poll();
            }
            clock.advance(Impairments.REORDER_HOLD_NANOS);
            b.poll();
            a.poll();
            List<Integer> busy = new ArrayList<>();
            for (byte[] f : b.received) {
                busy.add(seqOf(f));
            }
            assertEquals(quiet, busy);
        }
    }

    @Test
    void duplicationDeliversCountedExtraCopiesAndLosesNothing() {
        Outcome o = run(Impairments.NONE.withDuplicate(0.25).withSeed(5));
        assertTrue(o.duplicates() > 50, "duplicates: " + o.duplicates());
        assertEquals(FRAMES + o.duplicates(), o.received().size());
        Set<Integer> seen = new HashSet<>();
        int repeats = 0;
        byte[] previous = null;
        for (byte[] f : o.received()) {
            int seq = seqOf(f);
            assertArrayEquals(frame(seq, lengthOf(seq)), f);
            if (!seen.add(seq)) {
                repeats++;
                assertArrayEquals(previous, f, "a duplicate follows its original");
            }
            previous = f;
        }
        assertEquals(FRAMES, seen.size());
        assertEquals(o.duplicates(), repeats);
    }

    @Test
    void reorderChangesTheOrderByTheCountedFramesAndLosesNothing() {
        Outcome o = run(Impairments.NONE.withReorder(0.2).withSeed(11));
        List<Integer> seqs = o.seqs();
        assertEquals(FRAMES, seqs.size());
        assertEquals(FRAMES, new HashSet<>(seqs).size(), "each frame exactly once");
        int inversions = 0;
        for (int i = 1; i < seqs.size(); i++) {
            if (seqs.get(i) < seqs.get(i - 1)) {
                inversions++;
            }
        }
        assertTrue(o.reorders() > 20, "reorders: " + o.reorders());
        assertEquals(o.reorders(), inversions, "each counted reorder swaps a frame behind its successor");
        for (byte[] f : o.received()) {
            assertArrayEquals(frame(seqOf(f), lengthOf(seqOf(f))), f);
        }
    }

    @Test
    void aHeldBackFrameWithNoSuccessorArrivesLateButArrives() {
        String link = linkName("hold");
        MemoryLink.create(link, Impairments.NONE.withReorder(1));
        try (StackEnd a = StackEnd.open(config(link, Map.of()), clock);
                StackEnd b = StackEnd.open(config(link, Map.of()), clock)) {
            b.fillRx();
            a.send(frame(1, 100));
            b.poll();
            assertTrue(b.received.isEmpty());
            clock.advance(Impairments.REORDER_HOLD_NANOS);
            b.poll();
            assertEquals(1, b.received.size());
            assertEquals(0, a.count(NicCounter.LINK_REORDERS), "delayed, not reordered");
            a.poll();
        }
    }

    @Test
    void corruptionFlipsOneBitInExactlyTheCountedFrames() {
        Outcome o = run(Impairments.NONE.withCorrupt(0.2).withSeed(3));
        assertEquals(FRAMES, o.received().size());
        int corrupted = 0;
        for (int i = 0; i < FRAMES; i++) {
            byte[] got = o.received().get(i);
            byte[] sent = frame(i, lengthOf(i)); // no loss or reorder: position = sequence number
            assertEquals(sent.length, got.length);
            int bits = 0;
            for (int j = 0; j < sent.length; j++) {
                bits += Integer.bitCount((sent[j] ^ got[j]) & 0xff);
            }
            assertTrue(bits <= 1, "frame " + i + " differs by " + bits + " bits");
            corrupted += bits;
        }
        assertTrue(o.corruptions() > 40, "corruptions: " + o.corruptions());
        assertEquals(o.corruptions(), corrupted);
    }

    @Test
    void delayHoldsFramesAndCompletionsUntilTheClockPasses() {
        try (StackEnd a = StackEnd.open(config(linkName("delay"), Map.of(Impairments.DELAY_USEC.name(), "500")), clock);
                StackEnd b = a.peer(clock)) {
            b.fillRx();
            a.send(frame(1, 100));
            clock.advance(499_999);
            b.poll();
            a.poll();
            assertTrue(b.received.isEmpty());
            assertEquals(0, a.completions);
            assertEquals(1, a.vi.tx().posted(), "the descriptor is held while the frame is on the wire");
            assertTrue(!b.vi.events().hasEvents());
            clock.advance(1);
            assertTrue(b.vi.events().hasEvents(), "checking for events releases due frames");
            b.poll();
            assertEquals(1, b.received.size());
            a.poll();
            assertEquals(1, a.completions);
        }
    }

    @Test
    void rateLimitSerialisesFramesOneAfterAnother() {
        try (StackEnd a = StackEnd.open(config(linkName("rate"), Map.of(Impairments.RATE_MBPS.name(), "8")), clock);
                StackEnd b = a.peer(clock)) {
            b.fillRx();
            // 1000 bytes at 8 Mbit/s take 1 ms on the wire.
            for (int i = 0; i < 3; i++) {
                assertTrue(a.post(frame(i, 1000)));
            }
            a.vi.tx().doorbell();
            for (int expected = 1; expected <= 3; expected++) {
                clock.advance(999_999);
                b.poll();
                assertEquals(expected - 1, b.received.size());
                clock.advance(1);
                b.poll();
                assertEquals(expected, b.received.size());
                assertEquals(expected - 1, seqOf(b.received.get(expected - 1)));
            }
            a.poll();
            assertEquals(3, a.completions);
        }
    }

    @Test
    void jitterVariesTheDelayButKeepsTheOrder() {
        String link = linkName("jitter");
        try (StackEnd a = StackEnd.open(config(link, Map.of(Impairments.DELAY_USEC.name(), "1000",
                Impairments.JITTER_USEC.name(), "500", Impairments.SEED.name(), "17")), clock);
                StackEnd b = StackEnd.open(config(link, Map.of()), clock)) {
            b.fillRx();
            for (int i = 0; i < 50; i++) {
                a.send(frame(i, 100));
            }
            clock.advance(499_999);
            b.poll();
            assertTrue(b.received.isEmpty(), "nothing before delay - jitter");
            int partial = -1;
            for (int step = 0; step < 100; step++) {
                clock.advance(10_000);
                b.poll();
                if (partial < 0 && !b.received.isEmpty() && b.received.size() < 50) {
                    partial = b.received.size();
                }
            }
            assertEquals(50, b.received.size());
            assertTrue(partial > 0, "arrivals spread over the jitter window");
            for (int i = 0; i < 50; i++) {
                assertEquals(i, seqOf(b.received.get(i)));
            }
            a.poll();
        }
    }

    @Test
    void aFullBottleneckQueueDropsAndCounts() {
        try (StackEnd a = StackEnd.open(config(linkName("limit"), Map.of(Impairments.RATE_MBPS.name(), "8", Impairments.LIMIT.name(), "2")), clock);
                StackEnd b = a.peer(clock)) {
            b.fillRx();
            for (int i = 0; i < 5; i++) {
                assertTrue(a.post(frame(i, 1000)));
            }
            a.vi.tx().doorbell();
            assertEquals(3, a.count(NicCounter.LINK_DROPS));
            clock.advance(10_000_000);
            b.poll();
            a.poll();
            assertEquals(2, b.received.size());
            assertEquals(5, a.completions);
        }
    }
}
