package io.slipstream.driver.xdp;

import io.slipstream.linux.Xsk;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;

/**
 * One AF_XDP ring mapped from the kernel: a power-of-two array of descriptors and two 32-bit
 * free-running indices, the producer's and the consumer's, each written by one side only.
 *
 * <p>The protocol (as in the kernel's {@code xsk_queue.h}): a producer writes descriptors, then
 * publishes its index with a release store; a consumer reads the producer's index with an
 * acquire load before reading the descriptors, and publishes its own index with a release store
 * once it has read them, which hands the slots back. Each side caches the other's index and
 * re-reads it only when the cache says the ring is full (producer) or empty (consumer).
 *
 * <p>Fill and tx rings are ours to produce, rx and completion rings ours to consume. Fill and
 * completion descriptors are 8-byte UMEM addresses; rx and tx descriptors are {@code xdp_desc}
 * (u64 addr, u32 len, u32 options). Used by one thread at a time; allocates nothing.
 */
final class XskRing {
    private static final VarHandle INDEX = ValueLayout.JAVA_INT.varHandle();

    private final MemorySegment mapping;
    private final long producerOffset;
    private final long consumerOffset;
    private final long flagsOffset;
    private final long descOffset;
    private final int size;
    private final int mask;
    private final int descSize;
    /** Our side's index, published by {@link #submit} or {@link #release}. */
    private int local;
    /** The other side's index as last read. */
    private int cachedOther;

    XskRing(MemorySegment mapping, MemorySegment offsets, int ring, int size, int descSize) {
        this.mapping = mapping;
        this.producerOffset = Xsk.ringOffset(offsets, ring, 0);
        this.consumerOffset = Xsk.ringOffset(offsets, ring, 1);
        this.descOffset = Xsk.ringOffset(offsets, ring, 2);
        this.flagsOffset = Xsk.ringOffset(offsets, ring, 3);
        this.size = size;
        this.mask = size - 1;
        this.descSize = descSize;
        boolean producer = ring == Xsk.RING_FILL || ring == Xsk.RING_TX;
        this.local = (int) INDEX.getAcquire(mapping, producer ? producerOffset : consumerOffset);
        this.cachedOther = (int) INDEX.getAcquire(mapping, producer ? consumerOffset : producerOffset);
    }

    /** Bytes to map for a ring of {@code size} descriptors of {@code descSize} bytes at {@code descOffset}. */
    static long mappingSize(long descOffset, int size, int descSize) {
        return descOffset + (long) size * descSize;
    }

    int size() {
        return size;
    }

    // ---- producer side (fill, tx)

    /**
     * Free slots: how many descriptors may be written from {@link #producerIndex()} on. The
     * kernel's index is read again only when the cached one shows fewer than {@code needed}.
     */
    int free(int needed) {
        int free = size - (local - cachedOther);
        if (free < needed) {
            cachedOther = (int) INDEX.getAcquire(mapping, consumerOffset);
            free = size - (local - cachedOther);
        }
        return free;
    }

    /** Slots the kernel has not consumed yet (a fresh read). */
    int pending() {
        cachedOther = (int) INDEX.getAcquire(mapping, consumerOffset);
        return local - cachedOther;
    }

    int producerIndex() {
        return local;
    }

    void putAddress(int index, long address) {
        mapping.set(ValueLayout.JAVA_LONG, descOffset + (long) (index & mask) * descSize, address);
    }

    void putDescriptor(int index, long address, int length) {
        long at = descOffset + (long) (index & mask) * descSize;
        mapping.set(ValueLayout.JAVA_LONG, at, address);
        mapping.set(ValueLayout.JAVA_INT, at + 8, length);
        mapping.set(ValueLayout.JAVA_INT, at + 12, 0);
    }

    /** Publishes {@code count} written descriptors to the kernel. */
    void submit(int count) {
        local += count;
        INDEX.setRelease(mapping, producerOffset, local);
    }

    /** Whether the kernel asked to be woken (XDP_RING_NEED_WAKEUP) to process this ring. */
    boolean needsWakeup() {
        VarHandle.fullFence(); // our producer store is visible before we read the kernel's flag
        return ((int) INDEX.getAcquire(mapping, flagsOffset) & Xsk.XDP_RING_NEED_WAKEUP) != 0;
    }

    // ---- consumer side (rx, completion)

    /** Descriptors ready to read from {@link #consumerIndex()} on. */
    int available() {
        int available = cachedOther - local;
        if (available == 0) {
            cachedOther = (int) INDEX.getAcquire(mapping, producerOffset);
            available = cachedOther - local;
        }
        return available;
    }

    int consumerIndex() {
        return local;
    }

    long address(int index) {
        return mapping.get(ValueLayout.JAVA_LONG, descOffset + (long) (index & mask) * descSize);
    }

    int length(int index) {
        return mapping.get(ValueLayout.JAVA_INT, descOffset + (long) (index & mask) * descSize + 8);
    }

    /** Hands {@code count} read descriptors' slots back to the kernel. */
    void release(int count) {
        local += count;
        INDEX.setRelease(mapping, consumerOffset, local);
    }
}
