package io.slipstream.driver.memory;

import io.slipstream.buffer.BufferOwner;
import io.slipstream.buffer.PacketBuffer;
import io.slipstream.nic.RxRing;

/**
 * Empty buffers one end lends to the link. The stack posts from its thread; the link takes
 * them, under its lock, from whichever thread delivers a frame.
 */
final class MemoryRxRing implements RxRing {
    private final MemoryInterface vi;
    private final BufferOwner owner;
    private final HandoffRing ring;
    private final int capacity;

    MemoryRxRing(MemoryInterface vi, int capacity) {
        this.vi = vi;
        this.owner = new BufferOwner(vi.label() + " rx ring");
        this.ring = new HandoffRing(capacity);
        this.capacity = capacity;
    }

    BufferOwner owner() {
        return owner;
    }

    @Override
    public boolean post(PacketBuffer empty) {
        vi.checkPostable(empty);
        if (ring.size() >= capacity) {
            return false;
        }
        empty.transfer(vi.stackOwner(), owner);
        ring.offer(empty, (byte) 0); // cannot fail: only this thread adds, and there was room
        return true;
    }

    /** The next posted buffer, or null when none is posted. Under the link lock. */
    PacketBuffer take() {
        return ring.poll();
    }

    @Override
    public int capacity() {
        return capacity;
    }

    @Override
    public int posted() {
        return ring.size();
    }
}
