package io.slipstream.buffer;

/**
 * A named holder of packet buffers: a ring, a socket queue, the stack's scratch space.
 * Ownership is checked on every hand-over, so a buffer sitting in two queues at once is a
 * bug that fails loudly rather than a silent corruption. Create owners once, not per packet.
 */
public final class BufferOwner {
    private final String name;

    public BufferOwner(String name) {
        this.name = name;
    }

    public String name() {
        return name;
    }

    @Override
    public String toString() {
        return name;
    }
}
