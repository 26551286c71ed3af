package io.slipstream.testing;

import io.slipstream.buffer.BufferOwner;
import io.slipstream.buffer.BufferPool;
import io.slipstream.buffer.PacketBuffer;
import io.slipstream.ip.Ipv4Output;

/**
 * What the test links that join TCP layers without an IP layer give them to send through:
 * buffers from one pool with {@link Ipv4Output#HEADROOM} reserved in front, as the IP layer
 * reserves it, and one source address. Where segments may go and how they travel is the
 * link's.
 */
abstract class LinkOutput implements Ipv4Output {
    private final BufferPool pool;
    private final int address;

    LinkOutput(BufferPool pool, int address) {
        this.pool = pool;
        this.address = address;
    }

    @Override
    public PacketBuffer allocate(BufferOwner owner, int transportLength) {
        if (HEADROOM + transportLength > pool.frameSize()) {
            throw new IllegalArgumentException("segment of " + transportLength + " bytes exceeds a frame");
        }
        PacketBuffer b = pool.acquire(owner);
        if (b != null) {
            b.setRange(HEADROOM, 0);
        }
        return b;
    }

    @Override
    public int sourceAddress(int destination) {
        return address;
    }
}
