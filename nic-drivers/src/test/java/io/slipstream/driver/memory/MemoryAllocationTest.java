package io.slipstream.driver.memory;

import static io.slipstream.driver.memory.StackEnd.config;
import static io.slipstream.driver.memory.StackEnd.linkName;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.slipstream.buffer.BufferPool;
import io.slipstream.buffer.PacketBuffer;
import io.slipstream.nic.EventHandler;
import io.slipstream.nic.VirtualInterface;
import io.slipstream.time.VirtualClock;
import java.lang.foreign.ValueLayout;
import java.lang.management.ManagementFactory;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The data path allocates nothing once warm: post, doorbell, delivery with impairments, event
 * polling and interrupt checks, measured with the JVM's per-thread allocation counter.
 */
class MemoryAllocationTest {
    private static final int ROUNDS = 20_000;

    /** A stack that handles events without allocating: it recycles every buffer it gets. */
    private static final class Recycler implements EventHandler {
        final VirtualInterface vi;
        long rx;
        long completions;

        Recycler(VirtualInterface vi) {
            this.vi = vi;
        }

        @Override
        public void onRx(PacketBuffer frame) {
            rx++;
            if (!vi.rx().post(frame)) {
                frame.release(vi.stackOwner());
            }
        }

        @Override
        public void onTxComplete(PacketBuffer frame) {
            completions++;
            frame.release(vi.stackOwner());
        }

        @Override
        public void onTimer() {}

        @Override
        public void onWakeup() {}

        void send(int length) {
            PacketBuffer b = vi.buffers().acquire(vi.stackOwner());
            if (b == null) {
                return;
            }
            b.setRange(0, length);
            b.segment().set(ValueLayout.JAVA_INT_UNALIGNED, 14, (int) completions);
            if (!vi.tx().post(b)) {
                b.release(vi.stackOwner());
            }
            vi.tx().doorbell();
        }
    }

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
            Recycler a = new Recycler(endA.vi);
            Recycler b = new Recycler(endB.vi);
            run(a, b, clock); // warm up: load classes, compile
            run(a, b, clock);
            long before = threads.getCurrentThreadAllocatedBytes();
            run(a, b, clock);
            long allocated = threads.getCurrentThreadAllocatedBytes() - before;
            // One allocation per frame would be at least 16 bytes × 2 × ROUNDS; allow only a
            // one-off (a late class initialisation or deoptimisation) well below one byte per round.
            assertTrue(allocated < ROUNDS, allocated + " bytes allocated by " + ROUNDS
                    + " rounds of send, deliver and poll");
            assertTrue(a.rx > ROUNDS && b.rx > ROUNDS, "frames flowed both ways: " + a.rx + ", " + b.rx);
        }
    }

    private static void run(Recycler a, Recycler b, VirtualClock clock) {
        for (int i = 0; i < ROUNDS; i++) {
            a.send(64 + (i & 511));
            b.send(64);
            clock.advance(2_000);
            a.vi.interrupt().enable();
            b.vi.events().hasEvents();
            a.vi.events().poll(a, 64);
            b.vi.events().poll(b, 64);
        }
    }
}
