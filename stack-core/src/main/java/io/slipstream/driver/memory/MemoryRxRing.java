package io.slipstream.driver.memory;

import io.slipstream.buffer.PacketBuffer;
import io.slipstream.nic.RxRing;

/**
 * Empty buffers one end lends to the link. The stack posts from its thread; the link takes
 * them, under its lock, from whichever thread delivers a frame.
 */
final class MemoryRxRing extends MemoryRing implements RxRing {
    MemoryRxRing(MemoryInterface vi, int capacity) {
        super(vi, "rx ring", capacity);
    }

    /** The next posted buffer, or null when none is posted. Under the link lock. */
    PacketBuffer take() {
        return lent.poll();
    }

    @Override
    public int posted() {
        return lent.size();
    }
}
