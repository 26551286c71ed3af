package io.slipstream.buffer;

import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;

/**
 * One off-heap frame from a {@link BufferPool}. A frame holds one Ethernet frame; {@link
 * #offset()} and {@link #length()} delimit the bytes of interest (the whole frame on the NIC
 * rings; the unread payload once a socket queue holds it).
 *
 * <p>Exactly one {@link BufferOwner} holds a buffer at a time. Hand-overs name both sides
 * ({@link #transfer}); releasing returns it to the pool. Instances are created once, with the
 * pool, and reused: nothing here allocates.
 */
public final class PacketBuffer {
    private final BufferPool pool;
    private final int index;
    private final MemorySegment frame;
    /** The frame as a ByteBuffer, made on first use and kept (see {@link #view()}). */
    private ByteBuffer view;
    private int offset;
    private int length;
    private BufferOwner owner;
    /** Where it was acquired, when the pool tracks leaks; null otherwise. */
    Throwable acquiredAt;

    PacketBuffer(BufferPool pool, int index, MemorySegment frame) {
        this.pool = pool;
        this.index = index;
        this.frame = frame;
    }

    /** The whole frame, {@link #capacity()} bytes. */
    public MemorySegment segment() {
        return frame;
    }

    /**
     * The whole frame as a ByteBuffer (absolute indexes only: its position and limit mean
     * nothing), for bulk copies to and from application buffers. Made the first time it is
     * needed, then kept: copying through it allocates nothing, where a segment view of the
     * application's buffer per copy relies on escape analysis, which does not always apply.
     * Only the buffer's owner uses it.
     */
    public ByteBuffer view() {
        ByteBuffer v = view;
        if (v == null) {
            v = frame.asByteBuffer();
            view = v;
        }
        return v;
    }

    /** Position of this buffer in its pool; drivers use it as a descriptor. */
    public int index() {
        return index;
    }

    public BufferPool pool() {
        return pool;
    }

    public int capacity() {
        return (int) frame.byteSize();
    }

    public int offset() {
        return offset;
    }

    public int length() {
        return length;
    }

    /** Sets the live range; throws {@link IndexOutOfBoundsException} if it leaves the frame. */
    public PacketBuffer setRange(int offset, int length) {
        if (offset < 0 || length < 0 || offset > capacity() - length) {
            throw new IndexOutOfBoundsException(
                    "range " + offset + "+" + length + " outside frame of " + capacity());
        }
        this.offset = offset;
        this.length = length;
        return this;
    }

    /** Consumes {@code n} bytes from the front of the live range. */
    public void advance(int n) {
        setRange(offset + n, length - n);
    }

    public BufferOwner owner() {
        return owner;
    }

    /** Moves ownership; fails if {@code from} does not own the buffer. */
    public void transfer(BufferOwner from, BufferOwner to) {
        checkOwner(from);
        owner = to;
    }

    /** Returns the buffer to its pool; fails if {@code from} does not own it. */
    public void release(BufferOwner from) {
        checkOwner(from);
        pool.free(this);
    }

    void claim(BufferOwner newOwner) {
        owner = newOwner;
        offset = 0;
        length = 0;
    }

    void clearOwner() {
        owner = null;
    }

    private void checkOwner(BufferOwner expected) {
        if (owner != expected) {
            throw new IllegalStateException("buffer " + index + " is owned by "
                    + (owner == null ? "the pool (free)" : owner.name()) + ", not " + expected.name());
        }
    }

    @Override
    public String toString() {
        return "PacketBuffer[" + index + " " + offset + "+" + length + " owner=" + owner + "]";
    }
}
