package io.slipstream.driver.memory;

import static io.slipstream.driver.memory.StackEnd.config;
import static io.slipstream.driver.memory.StackEnd.frame;
import static io.slipstream.driver.memory.StackEnd.linkName;
import static io.slipstream.driver.memory.StackEnd.assertContains;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.slipstream.buffer.BufferPool;
import io.slipstream.buffer.PacketBuffer;
import io.slipstream.config.ConfigException;
import io.slipstream.nic.NicConfig;
import io.slipstream.nic.NicCounter;
import io.slipstream.nic.NicDriver;
import io.slipstream.nic.NicException;
import io.slipstream.time.VirtualClock;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class MemoryDriverTest {
    private final VirtualClock clock = new VirtualClock();

    @Test
    void isFoundByNameThroughServiceLoader() {
        NicDriver d = NicDriver.byName("memory");
        assertInstanceOf(MemoryDriver.class, d);
        assertEquals("memory", d.name());
    }

    @Test
    void deliversFramesByteExactInBothDirections() {
        String link = linkName("exact");
        try (StackEnd a = StackEnd.open(config(link, Map.of()), clock);
                StackEnd b = a.peer(clock)) {
            a.fillRx();
            b.fillRx();
            byte[] toB = frame(1, 1514);
            byte[] toA = frame(2, 60);
            a.send(toB);
            b.send(toA);
            a.poll();
            b.poll();

            assertEquals(1, b.received.size());
            assertArrayEquals(toB, b.received.get(0));
            assertEquals(1, a.received.size());
            assertArrayEquals(toA, a.received.get(0));
            assertEquals(1, a.completions);
            assertEquals(1, b.completions);
            assertEquals(0, a.vi.tx().posted());
            assertEquals(1, a.count(NicCounter.TX_FRAMES));
            assertEquals(1514, a.count(NicCounter.TX_BYTES));
            assertEquals(1, b.count(NicCounter.RX_FRAMES));
            assertEquals(1514, b.count(NicCounter.RX_BYTES));
            assertEquals(link, a.vi.name());
            assertEquals(1500, a.vi.mtu());
        }
    }

    /**
     * Both ends sending at once from their own threads: the per-frame counters, written under
     * the link lock without atomic instructions, still account for every frame and byte.
     */
    @Test
    void countersStayExactWhileBothEndsSendFromTheirOwnThreads() throws Exception {
        String link = linkName("concurrent");
        int frames = 20_000;
        try (StackEnd a = StackEnd.open(config(link, Map.of()), clock);
                StackEnd b = StackEnd.open(config(link, Map.of()), clock)) {
            a.keepFrames = false;
            b.keepFrames = false;
            a.fillRx();
            b.fillRx();
            long[] bytes = new long[2];
            Thread ta = Thread.ofPlatform().start(() -> bytes[0] = sendAll(a, frames, 1));
            Thread tb = Thread.ofPlatform().start(() -> bytes[1] = sendAll(b, frames, 2));
            ta.join(60_000);
            tb.join(60_000);
            assertFalse(ta.isAlive() || tb.isAlive(), "senders finished");
            a.poll();
            b.poll();
            for (StackEnd[] pair : new StackEnd[][] {{a, b}, {b, a}}) {
                StackEnd from = pair[0];
                StackEnd to = pair[1];
                long sentBytes = bytes[from == a ? 0 : 1];
                assertEquals(frames, from.count(NicCounter.TX_FRAMES));
                assertEquals(sentBytes, from.count(NicCounter.TX_BYTES));
                assertEquals(frames, from.completions);
                // Every frame either arrived or found no rx buffer posted; each is counted once.
                assertEquals(frames, to.count(NicCounter.RX_FRAMES) + to.count(NicCounter.RX_NO_BUFFER));
                assertEquals(to.receivedCount.get(), to.count(NicCounter.RX_FRAMES));
                assertTrue(to.receivedCount.get() > 0, "frames arrived");
            }
        }
    }

    /** Sends {@code frames} frames of varying length from this thread, polling as it goes; returns the bytes. */
    private static long sendAll(StackEnd end, int frames, int seed) {
        long bytes = 0;
        long deadline = System.nanoTime() + 30_000_000_000L;
        for (int i = 0; i < frames; ) {
            if (System.nanoTime() - deadline > 0) {
                throw new AssertionError("sender " + seed + " stalled at frame " + i);
            }
            int length = 60 + (i * 31 + seed) % 1400;
            if (end.post(frame(i, length))) {
                end.vi.tx().doorbell();
                bytes += length;
                i++;
            }
            end.poll();
        }
        while (end.completions < frames) {
            if (System.nanoTime() - deadline > 0) {
                throw new AssertionError("sender " + seed + " left frames uncompleted: " + end.completions);
            }
            end.poll();
        }
        return bytes;
    }

    @Test
    void deliversFromTheFramesLiveRangeNotTheBufferStart() {
        try (StackEnd a = StackEnd.open(config(linkName("range"), Map.of()), clock);
                StackEnd b = a.peer(clock)) {
            b.fillRx();
            byte[] bytes = frame(7, 100);
            PacketBuffer buf = a.vi.buffers().acquire(a.vi.stackOwner());
            java.lang.foreign.MemorySegment.copy(bytes, 0, buf.segment(), java.lang.foreign.ValueLayout.JAVA_BYTE, 40,
                    bytes.length);
            buf.setRange(40, bytes.length);
            assertTrue(a.vi.tx().post(buf));
            a.vi.tx().doorbell();
            b.poll();
            assertArrayEquals(bytes, b.received.get(0));
            a.poll();
        }
    }

    @Test
    void nothingLeavesBeforeTheDoorbell() {
        try (StackEnd a = StackEnd.open(config(linkName("doorbell"), Map.of()), clock);
                StackEnd b = a.peer(clock)) {
            b.fillRx();
            assertTrue(a.post(frame(1, 100)));
            assertTrue(a.post(frame(2, 100)));
            b.poll();
            assertTrue(b.received.isEmpty(), () -> "expected empty: " + b.received);
            assertEquals(2, a.vi.tx().posted());
            a.vi.tx().doorbell();
            b.poll();
            assertEquals(2, b.received.size());
            assertEquals(1, StackEnd.seqOf(b.received.get(0)));
            assertEquals(2, StackEnd.seqOf(b.received.get(1)));
        }
    }

    @Test
    void frameWithoutPostedRxBufferIsDroppedAndCounted() {
        try (StackEnd a = StackEnd.open(config(linkName("nobuf"), Map.of()), clock);
                StackEnd b = a.peer(clock)) {
            b.refillRx = false;
            a.send(frame(1, 100));
            b.poll();
            assertTrue(b.received.isEmpty(), () -> "expected empty: " + b.received);
            assertEquals(1, b.count(NicCounter.RX_NO_BUFFER));
            a.poll();
            assertEquals(1, a.completions, "the sender's buffer still comes back");
            assertEquals(a.vi.rx().posted(), a.vi.buffers().outstanding(), "only A's posted rx buffers are out");
        }
    }

    @Test
    void frameLongerThanThePeersMtuIsDroppedAsOversize() {
        String link = linkName("oversize");
        try (StackEnd a = StackEnd.open(config(link, Map.of()), clock);
                StackEnd b = StackEnd.open(config(link, 576, 64, 64, 256, Map.of()), clock)) {
            b.fillRx();
            a.send(frame(1, 576 + 18 + 1));
            a.send(frame(2, 576 + 18));
            b.poll();
            assertEquals(1, b.count(NicCounter.RX_OVERSIZE));
            assertEquals(1, b.received.size());
            assertEquals(2, StackEnd.seqOf(b.received.get(0)));
            a.poll();
            assertEquals(2, a.completions);
        }
    }

    @Test
    void senderRefusesEmptyAndOverMtuFrames() {
        try (StackEnd a = StackEnd.open(config(linkName("txerr"), Map.of()), clock);
                StackEnd b = a.peer(clock)) {
            b.fillRx();
            a.send(frame(1, 1500 + 18 + 1));
            a.send(new byte[0]);
            a.poll();
            b.poll();
            assertEquals(2, a.count(NicCounter.TX_ERRORS));
            assertEquals(0, a.count(NicCounter.TX_FRAMES));
            assertEquals(2, a.completions);
            assertTrue(b.received.isEmpty(), () -> "expected empty: " + b.received);
        }
    }

    @Test
    void fullRingsRefuseAndKeepNothing() {
        try (StackEnd a = StackEnd.open(config(linkName("full"), 1500, 4, 4, 16, Map.of()), clock);
                StackEnd b = a.peer(clock)) {
            assertEquals(4, a.fillRx());
            PacketBuffer extra = a.vi.buffers().acquire(a.vi.stackOwner());
            assertFalse(a.vi.rx().post(extra));
            assertEquals(a.vi.stackOwner(), extra.owner());
            for (int i = 0; i < 4; i++) {
                assertTrue(a.post(frame(i, 64)));
            }
            extra.setRange(0, 64);
            assertFalse(a.vi.tx().post(extra));
            assertEquals(a.vi.stackOwner(), extra.owner());
            assertEquals(4, a.vi.tx().posted());
            extra.release(a.vi.stackOwner());
            a.vi.tx().doorbell();
            a.poll();
            b.poll();
            assertEquals(0, a.vi.tx().posted());
        }
    }

    @Test
    void postingABufferOfAnotherPoolOrNotOwnedByTheStackFails() {
        String link = linkName("foreign");
        try (StackEnd a = StackEnd.open(config(link, Map.of()), clock);
                StackEnd b = StackEnd.open(config(link, Map.of()), clock);
                BufferPool other = BufferPool.allocate(4, BufferPool.DEFAULT_FRAME_SIZE)) {
            PacketBuffer foreign = other.acquire(a.vi.stackOwner());
            assertThrows(IllegalArgumentException.class, () -> a.vi.tx().post(foreign));
            assertThrows(IllegalArgumentException.class, () -> a.vi.rx().post(foreign));
            foreign.release(a.vi.stackOwner());
            PacketBuffer mine = a.vi.buffers().acquire(b.vi.stackOwner());
            assertThrows(IllegalStateException.class, () -> a.vi.rx().post(mine));
            mine.release(b.vi.stackOwner());
            assertEquals(0, a.vi.rx().posted());
        }
    }

    @Test
    void aThirdOpenFailsNamingTheLinkAndTheNameIsFreeAfterBothClose() {
        String link = linkName("third");
        StackEnd a = StackEnd.open(config(link, Map.of()), clock);
        StackEnd b = StackEnd.open(config(link, Map.of()), clock);
        NicException e = assertThrows(NicException.class, () -> StackEnd.open(config(link, Map.of()), clock));
        assertContains(e.getMessage(), "'" + link + "'", "two ends");
        a.close();
        NicException stillLive = assertThrows(NicException.class, () -> StackEnd.open(config(link, Map.of()), clock));
        assertContains(stillLive.getMessage(), "'" + link + "'");
        b.close();
        try (StackEnd again = StackEnd.open(config(link, Map.of()), clock);
                StackEnd other = again.peer(clock)) {
            other.fillRx();
            again.send(frame(9, 80));
            other.poll();
            assertEquals(1, other.received.size());
            again.poll();
        }
    }

    @Test
    void framesToAnEndNotYetOpenedAreDroppedAndCompleted() {
        try (StackEnd a = StackEnd.open(config(linkName("alone"), Map.of()), clock)) {
            a.send(frame(1, 80));
            a.poll();
            assertEquals(1, a.completions);
            assertEquals(1, a.count(NicCounter.LINK_DROPS));
        }
    }

    @Test
    void malformedOptionIsAConfigExceptionNamingTheProperty() {
        String link = linkName("malformed");
        ConfigException e = assertThrows(ConfigException.class,
                () -> StackEnd.open(config(link, Map.of(Impairments.LOSS.name(), "lots")), clock));
        assertContains(e.getMessage(), "slipstream.memory.loss", "lots");
        ConfigException range = assertThrows(ConfigException.class,
                () -> StackEnd.open(config(link, Map.of(Impairments.DELAY_USEC.name(), "-5")), clock));
        assertContains(range.getMessage(), "slipstream.memory.delay.usec");
        ConfigException seed = assertThrows(ConfigException.class,
                () -> StackEnd.open(config(link, Map.of(Impairments.SEED.name(), "0x12")), clock));
        assertContains(seed.getMessage(), "slipstream.memory.seed");
        // Nothing was opened: the name is still free.
        try (StackEnd a = StackEnd.open(config(link, Map.of()), clock);
                StackEnd b = StackEnd.open(config(link, Map.of()), clock)) {
            assertTrue(((MemoryInterface) a.vi).label().endsWith("end A"));
            assertTrue(((MemoryInterface) b.vi).label().endsWith("end B"));
        }
    }

    @Test
    void impairmentsComeFromTheFirstOpenerAndAConflictingSecondFails() {
        String link = linkName("conflict");
        try (StackEnd a = StackEnd.open(config(link, Map.of(Impairments.LOSS.name(), "0.5", Impairments.SEED.name(), "7")), clock)) {
            NicException e = assertThrows(NicException.class,
                    () -> StackEnd.open(config(link, Map.of(Impairments.LOSS.name(), "0.25")), clock));
            assertContains(e.getMessage(), "'" + link + "'", "slipstream.memory");
            // The same settings, or none at all, join the link.
            try (StackEnd b = StackEnd.open(config(link, Map.of(Impairments.SEED.name(), "7", Impairments.LOSS.name(), "0.5")), clock)) {
                assertSame(((MemoryInterface) a.vi).link(), ((MemoryInterface) b.vi).link());
                assertEquals(0.5, ((MemoryInterface) b.vi).link().impairments().loss());
            }
        }
        String other = linkName("inherit");
        try (StackEnd a = StackEnd.open(config(other, Map.of(Impairments.DELAY_USEC.name(), "100")), clock);
                StackEnd b = StackEnd.open(config(other, Map.of()), clock)) {
            assertSame(((MemoryInterface) a.vi).link(), ((MemoryInterface) b.vi).link());
            assertEquals(100_000, ((MemoryInterface) b.vi).link().impairments().delayNanos());
        }
    }

    @Test
    void aLinkCreatedAheadUsesItsImpairmentsAndRefusesADuplicateName() {
        String link = linkName("created");
        MemoryLink created = MemoryLink.create(link, Impairments.NONE.withDelay(1_000));
        assertThrows(NicException.class, () -> MemoryLink.create(link, Impairments.NONE));
        try (StackEnd a = StackEnd.open(config(link, Map.of()), clock);
                StackEnd b = StackEnd.open(config(link, Map.of()), clock)) {
            assertEquals(created.impairments(), ((MemoryInterface) a.vi).link().impairments());
            b.fillRx();
            a.send(frame(1, 80));
            b.poll();
            assertTrue(b.received.isEmpty(), () -> "expected empty: " + b.received);
            clock.advance(1_000);
            b.poll();
            assertEquals(1, b.received.size());
            a.poll();
        }
    }

    @Test
    void nicConfigOfDefaultsOpens() {
        try (var a = new MemoryDriver().open(NicConfig.of(linkName("defaults"), 0x020000000002L, Map.of()), clock)) {
            assertEquals(NicConfig.DEFAULT_RING_SIZE, a.rx().capacity());
            assertEquals(NicConfig.DEFAULT_BUFFER_COUNT, a.buffers().capacity());
            assertEquals(0x020000000002L, a.mac());
        }
    }

    @Test
    void closeReturnsEveryBufferIncludingThoseInFlight() {
        String link = linkName("close");
        StackEnd a = StackEnd.open(config(link, Map.of(Impairments.DELAY_USEC.name(), "1000")), clock);
        StackEnd b = StackEnd.open(config(link, Map.of()), clock);
        a.fillRx();
        b.fillRx();
        // B → A: arrives, but A never polls, so the RX events (and their buffers) sit in A's queue.
        b.send(frame(1, 200));
        b.send(frame(2, 200));
        clock.advance(1_000_000);
        b.poll();
        assertEquals(2, b.completions);
        // A → B: in flight when A closes; two more waiting for a doorbell; B → A in flight too.
        for (int i = 0; i < 4; i++) {
            a.send(frame(10 + i, 300));
        }
        assertTrue(a.post(frame(20, 300)));
        assertTrue(a.post(frame(21, 300)));
        b.send(frame(3, 200));
        b.send(frame(4, 200));
        BufferPool poolA = a.vi.buffers();
        assertTrue(poolA.outstanding() > 0);

        a.close();
        assertEquals(0, poolA.outstanding());
        assertEquals(List.of(), poolA.leaks());
        assertEquals(0, a.vi.events().poll(a, 100), "no event after close");
        assertFalse(a.vi.events().hasEvents());
        assertThrows(IllegalStateException.class, () -> a.vi.tx().doorbell());

        clock.advance(10_000_000);
        b.poll();
        assertTrue(b.received.isEmpty(), "A's frames in flight died with A");
        assertEquals(4, b.completions, "B's frames in flight to the closed end are completed");
        assertEquals(2, b.count(NicCounter.LINK_DROPS));
        BufferPool poolB = b.vi.buffers();
        b.close();
        assertEquals(0, poolB.outstanding());
        assertEquals(List.of(), poolB.leaks());
        a.close(); // idempotent
    }
}
