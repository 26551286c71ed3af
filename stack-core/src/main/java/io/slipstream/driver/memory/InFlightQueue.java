package io.slipstream.driver.memory;

import io.slipstream.buffer.PacketBuffer;

/**
 * Frames on the wire of one direction, earliest release first (ties in the order they were
 * added). A binary min-heap of slot numbers over preallocated per-slot arrays: adding and
 * taking are O(log n) and allocate nothing. Used under the link lock.
 */
final class InFlightQueue {
    static final long NONE = Long.MAX_VALUE;

    private final PacketBuffer[] frames;
    private final long[] release;
    private final long[] order;
    private final int[] copies;
    private final int[] corruptBit;
    private final int[] heap;
    private final int[] freeSlots;
    private int size;
    private int freeCount;
    private long nextOrder;

    InFlightQueue(int capacity) {
        frames = new PacketBuffer[capacity];
        release = new long[capacity];
        order = new long[capacity];
        copies = new int[capacity];
        corruptBit = new int[capacity];
        heap = new int[capacity];
        freeSlots = new int[capacity];
        for (int i = 0; i < capacity; i++) {
            freeSlots[i] = capacity - 1 - i;
        }
        freeCount = capacity;
    }

    int size() {
        return size;
    }

    int capacity() {
        return heap.length;
    }

    /**
     * Adds a frame released at {@code releaseNanos}, behind every frame already added with the
     * same release time. The caller checks {@link #size()} against the capacity first.
     */
    void add(PacketBuffer frame, long releaseNanos, int copyCount, int bit) {
        if (freeCount == 0) {
            throw new IllegalStateException("in-flight queue full (" + size + " frames)");
        }
        int slot = freeSlots[--freeCount];
        frames[slot] = frame;
        release[slot] = releaseNanos;
        order[slot] = nextOrder++;
        copies[slot] = copyCount;
        corruptBit[slot] = bit;
        heap[size] = slot;
        siftUp(size++);
    }

    /** Release time of the earliest frame, or {@link #NONE}. */
    long firstRelease() {
        return size == 0 ? NONE : release[heap[0]];
    }

    /**
     * Removes the earliest frame and returns its slot; read it with the accessors, then hand
     * the slot back with {@link #free}.
     */
    int takeFirst() {
        int slot = heap[0];
        heap[0] = heap[--size];
        if (size > 0) {
            siftDown(0);
        }
        return slot;
    }

    PacketBuffer frame(int slot) {
        return frames[slot];
    }

    long release(int slot) {
        return release[slot];
    }

    int copies(int slot) {
        return copies[slot];
    }

    int corruptBit(int slot) {
        return corruptBit[slot];
    }

    void free(int slot) {
        frames[slot] = null;
        freeSlots[freeCount++] = slot;
    }

    private boolean before(int a, int b) {
        long d = release[a] - release[b]; // wrap-safe, like System.nanoTime comparisons
        return d < 0 || (d == 0 && order[a] < order[b]);
    }

    private void siftUp(int i) {
        int slot = heap[i];
        while (i > 0) {
            int parent = (i - 1) >>> 1;
            if (!before(slot, heap[parent])) {
                break;
            }
            heap[i] = heap[parent];
            i = parent;
        }
        heap[i] = slot;
    }

    private void siftDown(int i) {
        int slot = heap[i];
        int half = size >>> 1;
        while (i < half) {
            int child = 2 * i + 1;
            int right = child + 1;
            if (right < size && before(heap[right], heap[child])) {
                child = right;
            }
            if (!before(heap[child], slot)) {
                break;
            }
            heap[i] = heap[child];
            i = child;
        }
        heap[i] = slot;
    }
}
