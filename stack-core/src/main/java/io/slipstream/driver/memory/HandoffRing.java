package io.slipstream.driver.memory;

import io.slipstream.buffer.PacketBuffer;
import io.slipstream.concurrent.VarHandles;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * A fixed-size FIFO of buffers, each tagged with a small kind, between one producing side and
 * one consuming side that may run on different threads. Each side is "one thread at a time"
 * (a stack's thread, or whoever holds the link lock): the indices are published with
 * release/acquire, so a buffer's contents and fields written before {@link #offer} are visible
 * after {@link #poll}. Preallocated; nothing here allocates.
 */
final class HandoffRing {
    private static final VarHandle HEAD = VarHandles.field(MethodHandles.lookup(), "head", long.class);
    private static final VarHandle TAIL = VarHandles.field(MethodHandles.lookup(), "tail", long.class);

    private final PacketBuffer[] buffers;
    private final byte[] kinds;
    private final int mask;
    @SuppressWarnings("unused") // accessed through HEAD
    private long head;
    @SuppressWarnings("unused") // accessed through TAIL
    private long tail;

    /** A ring of at least {@code minCapacity} entries (rounded up to a power of two). */
    HandoffRing(int minCapacity) {
        int capacity = Integer.highestOneBit(Math.max(1, minCapacity));
        if (capacity < minCapacity) {
            capacity <<= 1;
        }
        this.buffers = new PacketBuffer[capacity];
        this.kinds = new byte[capacity];
        this.mask = capacity - 1;
    }

    int capacity() {
        return buffers.length;
    }

    /** Adds at the tail; false when full. Producer side only. */
    boolean offer(PacketBuffer b, byte kind) {
        long t = (long) TAIL.getOpaque(this);
        if (t - (long) HEAD.getAcquire(this) == buffers.length) {
            return false;
        }
        int i = (int) t & mask;
        buffers[i] = b;
        kinds[i] = kind;
        // Volatile (not just release): the interrupt's enable() reads the tail after writing its
        // flag, and this side reads the flag after writing the tail; one of them must see the other.
        TAIL.setVolatile(this, t + 1);
        return true;
    }

    /** The kind of the head entry, or -1 when empty. Consumer side only. */
    int peekKind() {
        long h = (long) HEAD.getOpaque(this);
        if (h == (long) TAIL.getVolatile(this)) {
            return -1;
        }
        return kinds[(int) h & mask];
    }

    /** Removes the head entry, or returns null when empty. Consumer side only. */
    PacketBuffer poll() {
        long h = (long) HEAD.getOpaque(this);
        if (h == (long) TAIL.getAcquire(this)) {
            return null;
        }
        int i = (int) h & mask;
        PacketBuffer b = buffers[i];
        buffers[i] = null;
        HEAD.setRelease(this, h + 1);
        return b;
    }

    /** Entries waiting; exact when called from either side, a snapshot otherwise. */
    int size() {
        long h = (long) HEAD.getAcquire(this); // head first: it never passes a tail read later
        return (int) ((long) TAIL.getVolatile(this) - h);
    }

    boolean isEmpty() {
        return size() == 0;
    }
}
