package io.slipstream.driver.copy;

import io.slipstream.buffer.PacketBuffer;

/**
 * A bounded FIFO of buffers addressed by ever-increasing sequence numbers, like a NIC's
 * descriptor ring: the tx ring walks several cursors (sent, rung) between its head and tail.
 * Capacity is a power of two; nothing here allocates after construction.
 */
public final class FrameFifo {
    private final PacketBuffer[] slots;
    private final int mask;
    private long head;
    private long tail;

    public FrameFifo(int capacity) {
        if (Integer.bitCount(capacity) != 1) {
            throw new IllegalArgumentException("ring capacity must be a power of two, got " + capacity);
        }
        this.slots = new PacketBuffer[capacity];
        this.mask = capacity - 1;
    }

    public int capacity() {
        return slots.length;
    }

    public int size() {
        return (int) (tail - head);
    }

    public boolean isEmpty() {
        return head == tail;
    }

    /** Sequence number of the oldest entry. */
    public long head() {
        return head;
    }

    /** Sequence number the next entry will get. */
    public long tail() {
        return tail;
    }

    /** Appends; false when full. */
    public boolean offer(PacketBuffer b) {
        if (tail - head == slots.length) {
            return false;
        }
        slots[(int) tail & mask] = b;
        tail++;
        return true;
    }

    /** The entry with sequence {@code seq}, which must lie in [head, tail). */
    public PacketBuffer at(long seq) {
        return slots[(int) seq & mask];
    }

    /** The oldest entry, or null when empty. */
    public PacketBuffer peek() {
        return head == tail ? null : slots[(int) head & mask];
    }

    /** Removes and returns the oldest entry, or null when empty. */
    public PacketBuffer poll() {
        if (head == tail) {
            return null;
        }
        int i = (int) head & mask;
        PacketBuffer b = slots[i];
        slots[i] = null;
        head++;
        return b;
    }
}
