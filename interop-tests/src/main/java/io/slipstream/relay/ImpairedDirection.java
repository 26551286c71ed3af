package io.slipstream.relay;

import io.slipstream.stats.Counters;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;

/**
 * One direction of the relay: frames come in by {@link #accept}, are impaired as its
 * {@link Impairment} draws from a seeded generator (so a run can be repeated frame for frame),
 * wait in a delay line of fixed slots, and leave through the {@link FrameSink} by
 * {@link #release}. A reordered frame waits aside until {@code reorderDepth} later frames have
 * left, or its delay plus a hold limit has passed when no later frame comes. One thread uses it;
 * nothing is allocated per frame.
 */
final class ImpairedDirection {
    /** Bytes a slot holds: an MTU-1500 frame with a VLAN tag, rounded up. */
    static final int SLOT_BYTES = 2048;
    /** Longest a reordered frame waits for later ones: a lone frame must still arrive. */
    static final long HOLD_LIMIT_NS = 2_000_000;
    private static final int ETHERNET_HEADER = 14;
    private static final short ETHERTYPE_IPV4 = 0x0800;
    private static final int HELD_CAPACITY = 64;

    private final String name;
    private final Impairment impairment;
    private final SplittableRandom random;
    private final FrameSink sink;
    private final Counters<RelayCounter> counters = new Counters<>(RelayCounter.class);
    private final MemorySegment slots;
    private final int[] lengths;
    private final int[] free;
    private int freeCount;
    // The delay line: a FIFO of slots with their send times (a constant delay keeps it ordered).
    private final int[] lineSlot;
    private final long[] lineDueNs;
    private long lineHead;
    private long lineTail;
    // Reordered frames: each waits until `releaseAfter` frames have left in all, or its deadline.
    private final int[] heldSlot = new int[HELD_CAPACITY];
    private final long[] heldReleaseAfter = new long[HELD_CAPACITY];
    private final long[] heldDeadlineNs = new long[HELD_CAPACITY];
    private int heldCount;
    private long sentFromLine;

    ImpairedDirection(String name, Impairment impairment, long seed, int slotCount, FrameSink sink, Arena arena) {
        this.name = name;
        this.impairment = impairment;
        this.random = new SplittableRandom(seed);
        this.sink = sink;
        this.slots = arena.allocate((long) slotCount * SLOT_BYTES, 64);
        this.lengths = new int[slotCount];
        this.free = new int[slotCount];
        for (int i = 0; i < slotCount; i++) {
            free[i] = slotCount - 1 - i;
        }
        this.freeCount = slotCount;
        this.lineSlot = new int[slotCount];
        this.lineDueNs = new long[slotCount];
    }

    String name() {
        return name;
    }

    Impairment impairment() {
        return impairment;
    }

    /** Written by the relay thread only; other threads may read slightly stale values. */
    Counters<RelayCounter> counters() {
        return counters;
    }

    /** Takes a frame of {@code length} bytes read into {@code frame} at {@code nowNs}. */
    void accept(MemorySegment frame, int length, long nowNs) {
        counters.increment(RelayCounter.FRAMES_IN);
        if (length > SLOT_BYTES) {
            counters.increment(RelayCounter.OVERSIZE);
            return;
        }
        boolean ipv4 = length > ETHERNET_HEADER
                && frame.get(ValueLayout.JAVA_SHORT_UNALIGNED, 12) == Short.reverseBytes(ETHERTYPE_IPV4);
        if (!ipv4) {
            counters.increment(RelayCounter.UNIMPAIRED);
            enqueue(frame, length, nowNs);
            return;
        }
        // Every draw is made for every frame, so one impairment's rate does not shift the others' sequence.
        boolean lose = random.nextDouble() < impairment.lossRate();
        boolean corrupt = random.nextDouble() < impairment.corruptRate();
        boolean reorder = random.nextDouble() < impairment.reorderRate();
        boolean duplicate = random.nextDouble() < impairment.duplicateRate();
        long corruptAt = ETHERNET_HEADER + random.nextInt(length - ETHERNET_HEADER);
        byte corruptMask = (byte) (1 + random.nextInt(255));
        if (lose) {
            counters.increment(RelayCounter.LOST);
            return;
        }
        int slot = copyIn(frame, 0, length);
        if (slot < 0) {
            return;
        }
        if (corrupt) {
            long at = (long) slot * SLOT_BYTES + corruptAt;
            slots.set(ValueLayout.JAVA_BYTE, at, (byte) (slots.get(ValueLayout.JAVA_BYTE, at) ^ corruptMask));
            counters.increment(RelayCounter.CORRUPTED);
        }
        if (reorder && heldCount < HELD_CAPACITY) {
            heldSlot[heldCount] = slot;
            heldReleaseAfter[heldCount] = sentFromLine + (lineTail - lineHead) + impairment.reorderDepth();
            heldDeadlineNs[heldCount] = nowNs + impairment.delayNs() + HOLD_LIMIT_NS;
            heldCount++;
            counters.increment(RelayCounter.REORDERED);
        } else {
            line(slot, nowNs);
        }
        if (duplicate) {
            int copy = copyIn(slots, (long) slot * SLOT_BYTES, lengths[slot]);
            if (copy >= 0) {
                line(copy, nowNs);
                counters.increment(RelayCounter.DUPLICATED);
            }
        }
    }

    private void enqueue(MemorySegment frame, int length, long nowNs) {
        int slot = copyIn(frame, 0, length);
        if (slot >= 0) {
            line(slot, nowNs);
        }
    }

    private int copyIn(MemorySegment from, long offset, int length) {
        if (freeCount == 0 || lineTail - lineHead == lineSlot.length) {
            counters.increment(RelayCounter.QUEUE_FULL);
            return -1;
        }
        int slot = free[--freeCount];
        MemorySegment.copy(from, offset, slots, (long) slot * SLOT_BYTES, length);
        lengths[slot] = length;
        return slot;
    }

    private void line(int slot, long nowNs) {
        int at = (int) (lineTail % lineSlot.length);
        lineSlot[at] = slot;
        lineDueNs[at] = nowNs + impairment.delayNs();
        lineTail++;
    }

    /**
     * Sends what is due at {@code nowNs}, in order, and the held frames whose turn came; stops at
     * the first the output pushes back.
     */
    void release(long nowNs) {
        while (lineHead != lineTail) {
            int at = (int) (lineHead % lineSlot.length);
            if (lineDueNs[at] - nowNs > 0) {
                break;
            }
            if (!sendSlot(lineSlot[at])) {
                return;
            }
            lineHead++;
            sentFromLine++;
            if (!releaseHeld(nowNs)) {
                return;
            }
        }
        releaseHeld(nowNs);
    }

    /** Sends held frames whose count or deadline came; false when the output pushed back. */
    private boolean releaseHeld(long nowNs) {
        for (int i = 0; i < heldCount; ) {
            if (heldReleaseAfter[i] <= sentFromLine || heldDeadlineNs[i] - nowNs <= 0) {
                if (!sendSlot(heldSlot[i])) {
                    return false;
                }
                heldCount--;
                heldSlot[i] = heldSlot[heldCount];
                heldReleaseAfter[i] = heldReleaseAfter[heldCount];
                heldDeadlineNs[i] = heldDeadlineNs[heldCount];
            } else {
                i++;
            }
        }
        return true;
    }

    /** False, keeping the slot, when the output pushed back. */
    private boolean sendSlot(int slot) {
        int length = lengths[slot];
        int result = sink.send(slots.address() + (long) slot * SLOT_BYTES, length);
        if (result == FrameSink.BUSY) {
            counters.increment(RelayCounter.TX_RETRIES);
            return false;
        }
        if (result == FrameSink.SENT) {
            counters.increment(RelayCounter.FRAMES_OUT);
            counters.add(RelayCounter.BYTES_OUT, length);
        } else {
            counters.increment(RelayCounter.TX_ERRORS);
        }
        free[freeCount++] = slot;
        return true;
    }

    /** When the next frame is due, or {@code Long.MAX_VALUE} with none waiting. */
    long nextDueNs() {
        long next = Long.MAX_VALUE;
        if (lineHead != lineTail) {
            next = lineDueNs[(int) (lineHead % lineSlot.length)];
        }
        for (int i = 0; i < heldCount; i++) {
            next = Math.min(next, heldDeadlineNs[i]);
        }
        return next;
    }

    /** Frames in the delay line or held. */
    int waiting() {
        return (int) (lineTail - lineHead) + heldCount;
    }
}
