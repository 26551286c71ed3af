package io.slipstream.driver.memory;

import static io.slipstream.driver.memory.StackEnd.config;
import static io.slipstream.driver.memory.StackEnd.linkName;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.slipstream.buffer.BufferPool;
import io.slipstream.time.VirtualClock;
import java.lang.management.ManagementFactory;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The data path allocates nothing once warm: post, doorbell, delivery with impairments, event
 * polling and interrupt checks, measured with the JVM's per-thread allocation counter.
 */
class MemoryAllocationTest {
    private static final int ROUNDS = 20_000;

    @Test
    void steadyStateSendReceiveAllocatesNothing() {
        var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        VirtualClock clock = new VirtualClock();
        String link = linkName("alloc");
        MemoryLink.create(link, Impairments.NONE.withLoss(0.05).withDuplicate(0.05).withReorder(0.05)
                .withCorrupt(0.05).withDelay(1_000).withJitter(500).withRate(10_000));
        // Leak tracking records a stack trace per acquire: measure the driver, not the tracker.
        String tracking = System.clearProperty(BufferPool.TRACK_LEAKS_PROPERTY);
        StackEnd endA;
        StackEnd endB;
        try {
            endA = StackEnd.open(config(link, Map.of()), clock);
            endB = StackEnd.open(config(link, Map.of()), clock);
        } finally {
            if (tracking != null) {
                System.setProperty(BufferPool.TRACK_LEAKS_PROPERTY, tracking);
            }
        }
        try (endA; endB) {
            endA.fillRx();
            endB.fillRx();
            endA.keepFrames = false;
            endB.keepFrames = false;
            byte[][] frames = new byte[512][];
            for (int i = 0; i < frames.length; i++) {
                frames[i] = StackEnd.frame(i, 64 + i);
            }
            run(endA, endB, frames, clock); // warm up: load classes, compile
            run(endA, endB, frames, clock);
            long before = threads.getCurrentThreadAllocatedBytes();
            run(endA, endB, frames, clock);
            long allocated = threads.getCurrentThreadAllocatedBytes() - before;
            // One allocation per frame would be at least 16 bytes × 2 × ROUNDS; allow only a
            // one-off (a late class initialisation or deoptimisation) well below one byte per round.
            assertTrue(allocated < ROUNDS, allocated + " bytes allocated by " + ROUNDS
                    + " rounds of send, deliver and poll");
            assertTrue(endA.receivedCount.get() > ROUNDS && endB.receivedCount.get() > ROUNDS,
                    "frames flowed both ways: " + endA.receivedCount + ", " + endB.receivedCount);
        }
    }

    private static void run(StackEnd a, StackEnd b, byte[][] frames, VirtualClock clock) {
        for (int i = 0; i < ROUNDS; i++) {
            a.post(frames[i & 511]);
            a.vi.tx().doorbell();
            b.post(frames[0]);
            b.vi.tx().doorbell();
            clock.advance(2_000);
            a.vi.interrupt().enable();
            b.vi.events().hasEvents();
            a.poll();
            b.poll();
        }
    }
}
