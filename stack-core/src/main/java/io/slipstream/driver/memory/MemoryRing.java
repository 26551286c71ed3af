package io.slipstream.driver.memory;

import io.slipstream.buffer.BufferOwner;
import io.slipstream.buffer.PacketBuffer;

/**
 * What one end's rx and tx rings share: the stack lends a buffer to the ring, which owns it
 * from then on, up to the ring's capacity of descriptors.
 */
abstract class MemoryRing {
    final MemoryInterface vi;
    /** Owns every buffer on the ring. */
    final BufferOwner owner;
    /** Buffers lent and not yet taken off (posted empty ones, or frames waiting for the wire). */
    final HandoffRing lent;
    private final int capacity;

    MemoryRing(MemoryInterface vi, String name, int capacity) {
        this.vi = vi;
        this.owner = new BufferOwner(vi.label() + " " + name);
        this.lent = new HandoffRing(capacity);
        this.capacity = capacity;
    }

    BufferOwner owner() {
        return owner;
    }

    /** Descriptors in use: the ring refuses a post when all {@link #capacity()} are. */
    public abstract int posted();

    /** Lends a stack buffer to the ring; false, keeping nothing, when every descriptor is in use. */
    public boolean post(PacketBuffer b) {
        vi.checkPostable(b);
        if (posted() >= capacity) {
            return false;
        }
        b.transfer(vi.stackOwner(), owner);
        lent.offer(b, (byte) 0); // cannot fail: what is lent is a subset of the descriptors in use
        return true;
    }

    public int capacity() {
        return capacity;
    }
}
