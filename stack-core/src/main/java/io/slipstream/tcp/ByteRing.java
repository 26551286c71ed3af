package io.slipstream.tcp;

import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;

/**
 * A fixed-capacity off-heap byte ring: the bytes of a send or receive buffer. {@link #size()}
 * bytes from the head are "committed"; bytes may also be placed beyond them at an offset
 * (out-of-order data) and committed later. Copies handle the wrap; nothing allocates.
 */
final class ByteRing {
    /** The memory the ring lives in, possibly larger than the ring (a {@link RingMemory} block). */
    private final MemorySegment block;
    private final MemorySegment mem;
    /**
     * The same memory as a buffer, made once: application ByteBuffers are copied with the
     * buffer-to-buffer bulk operations, which need no segment view of the application's buffer
     * per call (escape analysis does not remove such a view in every compiled context).
     */
    private final ByteBuffer view;
    private final int capacity;
    private int head;
    private int size;

    ByteRing(MemorySegment mem) {
        this(mem, (int) mem.byteSize());
    }

    /** A ring of {@code capacity} bytes at the start of {@code block}. */
    ByteRing(MemorySegment block, int capacity) {
        this.block = block;
        this.mem = block.asSlice(0, capacity);
        this.view = mem.asByteBuffer();
        this.capacity = capacity;
    }

    MemorySegment block() {
        return block;
    }

    int capacity() {
        return capacity;
    }

    int size() {
        return size;
    }

    int free() {
        return capacity - size;
    }

    /** Copies {@code len} bytes from {@code src} to {@code offset} bytes after the head. */
    void put(int offset, MemorySegment src, long srcOff, int len) {
        if (offset < 0 || len < 0 || (long) offset + len > capacity) {
            throw new IndexOutOfBoundsException("ring put " + offset + "+" + len + " over " + capacity);
        }
        int pos = wrap(head + offset);
        int first = Math.min(len, capacity - pos);
        MemorySegment.copy(src, srcOff, mem, pos, first);
        if (first < len) {
            MemorySegment.copy(src, srcOff + first, mem, 0, len - first);
        }
    }

    /** Copies {@code len} bytes from {@code offset} after the head into {@code dst}. */
    void get(int offset, MemorySegment dst, long dstOff, int len) {
        int pos = wrap(head + offset);
        int first = Math.min(len, capacity - pos);
        MemorySegment.copy(mem, pos, dst, dstOff, first);
        if (first < len) {
            MemorySegment.copy(mem, 0, dst, dstOff + first, len - first);
        }
    }

    /** Appends bytes at the end of the committed region; returns how many fit. */
    /** {@link #put(int, MemorySegment, long, int)} from {@code src} at {@code srcPos}; positions untouched. */
    void put(int offset, ByteBuffer src, int srcPos, int len) {
        if (offset < 0 || len < 0 || (long) offset + len > capacity) {
            throw new IndexOutOfBoundsException("ring put " + offset + "+" + len + " over " + capacity);
        }
        int pos = wrap(head + offset);
        int first = Math.min(len, capacity - pos);
        view.put(pos, src, srcPos, first);
        if (first < len) {
            view.put(0, src, srcPos + first, len - first);
        }
    }

    /** {@link #get(int, MemorySegment, long, int)} into {@code dst} at {@code dstPos}; positions untouched. */
    void get(int offset, ByteBuffer dst, int dstPos, int len) {
        int pos = wrap(head + offset);
        int first = Math.min(len, capacity - pos);
        dst.put(dstPos, view, pos, first);
        if (first < len) {
            dst.put(dstPos + first, view, 0, len - first);
        }
    }

    /** Appends what fits of {@code len} bytes of {@code src} from {@code srcPos}; returns how many. */
    int append(ByteBuffer src, int srcPos, int len) {
        int n = Math.min(len, free());
        put(size, src, srcPos, n);
        size += n;
        return n;
    }

    int append(MemorySegment src, long srcOff, int len) {
        int n = Math.min(len, free());
        put(size, src, srcOff, n);
        size += n;
        return n;
    }

    /**
     * Moves every byte, committed and placed beyond, to the start of the empty and no smaller
     * {@code dst}, which takes this ring's size: offsets from the head stay valid.
     */
    void moveTo(ByteRing dst) {
        if (dst.size != 0 || dst.capacity < capacity) {
            throw new IllegalArgumentException("ring of " + capacity + " bytes moved to one of " + dst.capacity
                    + " holding " + dst.size);
        }
        get(0, dst.mem, 0, capacity);
        dst.head = 0;
        dst.size = size;
    }

    /** Extends the committed region over bytes already placed with {@link #put}. */
    void commit(int n) {
        if (n < 0 || n > free()) {
            throw new IllegalArgumentException("commit " + n + " with " + free() + " free");
        }
        size += n;
    }

    /** Drops {@code n} bytes from the head. */
    void consume(int n) {
        if (n < 0 || n > size) {
            throw new IllegalArgumentException("consume " + n + " of " + size);
        }
        head = wrap(head + n);
        size -= n;
    }

    private int wrap(int p) {
        return p >= capacity ? p - capacity : p;
    }
}
