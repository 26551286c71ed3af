package io.slipstream.driver.memory;

import static io.slipstream.driver.memory.StackEnd.config;
import static io.slipstream.driver.memory.StackEnd.frame;
import static io.slipstream.driver.memory.StackEnd.linkName;
import static io.slipstream.driver.memory.StackEnd.seqOf;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.slipstream.buffer.BufferPool;
import io.slipstream.nic.NicCounter;
import io.slipstream.time.VirtualClock;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import net.jqwik.api.Tuple.Tuple2;

/**
 * Random sends, polls, rx posts and clock moves over links with random impairments: the link
 * never loses a buffer (after draining and closing, both pools are whole) and never delivers
 * a frame nobody sent (a corrupted one differs from a sent frame by exactly one bit).
 */
class MemoryLinkProperties {

    sealed interface Action permits Send, Doorbell, Poll, PostRx, Advance {}

    /** Queues {@code count} frames of {@code length} bytes on end {@code side}, ringing the doorbell if {@code ring}. */
    record Send(int side, int count, int length, boolean ring) implements Action {}

    record Doorbell(int side) implements Action {}

    record Poll(int side) implements Action {}

    record PostRx(int side, int count) implements Action {}

    record Advance(long nanos) implements Action {}

    @Property
    void neverLosesABufferNorDeliversAFrameNotSent(
            @ForAll("impairments") Impairments impairments,
            @ForAll("actions") List<Action> actions,
            @ForAll boolean smallMtuAtB,
            @ForAll boolean drainBeforeClose,
            @ForAll boolean closeAFirst) {
        VirtualClock clock = new VirtualClock();
        String link = linkName("prop");
        MemoryLink.create(link, impairments);
        StackEnd[] ends = {
            StackEnd.open(config(link, 1500, 8, 8, 32, Map.of()), clock),
            StackEnd.open(config(link, smallMtuAtB ? 576 : 1500, 8, 8, 32, Map.of()), clock)
        };
        Map<Integer, byte[]> sent = new HashMap<>();
        int[] queued = new int[2];
        int nextSeq = 0;
        for (StackEnd e : ends) {
            e.refillRx = false;
        }
        for (Action action : actions) {
            switch (action) {
                case Send s -> {
                    for (int i = 0; i < s.count(); i++) {
                        int seq = nextSeq++;
                        byte[] f = frame(seq, s.length());
                        if (ends[s.side()].post(f)) {
                            sent.put(seq, f);
                            queued[s.side()]++;
                        }
                    }
                    if (s.ring()) {
                        ends[s.side()].vi.tx().doorbell();
                    }
                }
                case Doorbell d -> ends[d.side()].vi.tx().doorbell();
                case Poll p -> ends[p.side()].poll();
                case PostRx r -> {
                    for (int i = 0; i < r.count(); i++) {
                        ends[r.side()].fillRxOne();
                    }
                }
                case Advance a -> clock.advance(a.nanos());
            }
        }

        if (drainBeforeClose) {
            for (StackEnd e : ends) {
                e.vi.tx().doorbell();
            }
            clock.advance(10_000_000_000L);
            for (int round = 0; round < 3; round++) {
                for (StackEnd e : ends) {
                    e.poll();
                }
            }
            for (int side = 0; side < 2; side++) {
                StackEnd from = ends[side];
                StackEnd to = ends[1 - side];
                assertEquals(queued[side], from.completions, "every posted frame comes back");
                assertEquals(0, from.vi.tx().posted());
                assertEquals(to.received.size(), to.count(NicCounter.RX_FRAMES));
                assertEquals(from.count(NicCounter.TX_FRAMES) - from.count(NicCounter.LINK_DROPS)
                                + from.count(NicCounter.LINK_DUPLICATES),
                        to.count(NicCounter.RX_FRAMES) + to.count(NicCounter.RX_NO_BUFFER)
                                + to.count(NicCounter.RX_OVERSIZE),
                        "every copy put on the wire arrives somewhere");
                assertEquals(queued[side], from.count(NicCounter.TX_FRAMES) + from.count(NicCounter.TX_ERRORS));
            }
        }

        for (int side = 0; side < 2; side++) {
            int oneBitOff = 0;
            for (byte[] got : ends[side].received) {
                if (!Arrays.equals(got, sent.get(seqOf(got)))) {
                    assertTrue(differsByOneBitFromOneOf(got, sent), "a frame nobody sent arrived");
                    oneBitOff++;
                }
            }
            assertTrue(oneBitOff <= ends[1 - side].count(NicCounter.LINK_CORRUPTIONS),
                    oneBitOff + " corrupted frames but only " + ends[1 - side].count(NicCounter.LINK_CORRUPTIONS)
                            + " corruptions counted");
        }

        BufferPool poolA = ends[0].vi.buffers();
        BufferPool poolB = ends[1].vi.buffers();
        StackEnd first = ends[closeAFirst ? 0 : 1];
        StackEnd second = ends[closeAFirst ? 1 : 0];
        first.close();
        second.poll(); // completions of frames that were in flight to the closed end
        second.close();
        assertEquals(0, poolA.outstanding(), () -> String.join("\n", poolA.leaks()));
        assertEquals(0, poolB.outstanding(), () -> String.join("\n", poolB.leaks()));
    }

    private static boolean differsByOneBitFromOneOf(byte[] got, Map<Integer, byte[]> sent) {
        for (byte[] s : sent.values()) {
            if (s.length == got.length) {
                int bits = 0;
                for (int i = 0; i < s.length && bits <= 1; i++) {
                    bits += Integer.bitCount((s[i] ^ got[i]) & 0xff);
                }
                if (bits == 1) {
                    return true;
                }
            }
        }
        return false;
    }

    @Provide
    Arbitrary<Impairments> impairments() {
        Arbitrary<Double> probability = Arbitraries.frequencyOf(
                weighted(3, Arbitraries.just(0.0)),
                weighted(2, Arbitraries.doubles().between(0, 0.5).ofScale(2)),
                weighted(1, Arbitraries.just(1.0)));
        Arbitrary<Long> micros = Arbitraries.frequencyOf(
                weighted(2, Arbitraries.just(0L)),
                weighted(1, Arbitraries.longs().between(1, 5_000)));
        Arbitrary<Double> rate = Arbitraries.frequencyOf(
                weighted(2, Arbitraries.just(0.0)),
                weighted(1, Arbitraries.doubles().between(1, 1000).ofScale(1)));
        Arbitrary<Integer> limit = Arbitraries.frequencyOf(
                weighted(3, Arbitraries.just(0)),
                weighted(1, Arbitraries.integers().between(1, 8)));
        Arbitrary<Impairments> probabilities = Combinators.combine(probability, probability, probability, probability)
                .as((l, d, r, c) -> Impairments.NONE.withLoss(l).withDuplicate(d).withReorder(r).withCorrupt(c));
        return Combinators.combine(probabilities, micros, micros, rate, limit, Arbitraries.longs())
                .as((p, delay, jitter, mbps, frames, seed) -> p.withDelay(delay * 1000).withJitter(jitter * 1000)
                        .withRate(mbps).withLimit(frames).withSeed(seed));
    }

    private static <T> Tuple2<Integer, Arbitrary<? extends T>> weighted(int weight, Arbitrary<T> a) {
        return Tuple.of(weight, a);
    }

    @Provide
    Arbitrary<List<Action>> actions() {
        Arbitrary<Integer> side = Arbitraries.integers().between(0, 1);
        Arbitrary<Action> send = Combinators.combine(side, Arbitraries.integers().between(1, 10),
                        Arbitraries.integers().between(18, 1600), Arbitraries.of(true, true, false))
                .as(Send::new);
        Arbitrary<Action> doorbell = side.map(Doorbell::new);
        Arbitrary<Action> poll = side.map(Poll::new);
        Arbitrary<Action> postRx = Combinators.combine(side, Arbitraries.integers().between(1, 10)).as(PostRx::new);
        Arbitrary<Action> advance = Arbitraries.longs().between(0, 3_000_000).map(Advance::new);
        return Arbitraries.frequencyOf(
                        weighted(4, send), weighted(1, doorbell), weighted(4, poll), weighted(3, postRx), weighted(3, advance))
                .list().ofMinSize(5).ofMaxSize(60);
    }
}
