package io.slipstream.buffer;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

/**
 * A fixed set of equal-sized off-heap frames, carved from one memory region and recycled
 * through a free stack. One pool per stack; the region is either allocated here or supplied
 * by a driver whose NIC must see it (an AF_XDP UMEM).
 *
 * <p>Not thread-safe: the stack that owns it acquires and frees under its stack lock. NIC
 * hand-overs go through the driver's rings, never through the pool.
 *
 * <p>With leak tracking on ({@code -Dslipstream.buffer.trackLeaks=true}, as the tests run) every
 * acquire records its stack trace so {@link #leaks()} can say who forgot to release.
 */
public final class BufferPool implements AutoCloseable {
    public static final int DEFAULT_FRAME_SIZE = 2048;
    public static final String TRACK_LEAKS_PROPERTY = "slipstream.buffer.trackLeaks";
    /** Room for a whole IP datagram (64 KiB) plus headers, for reassembly and fragmentation. */
    public static final int MAX_FRAME_SIZE = 128 * 1024;

    private final Arena arena;
    private final MemorySegment region;
    private final PacketBuffer[] buffers;
    private final int[] freeStack;
    private int freeCount;
    private final boolean trackLeaks;
    private long exhausted;

    private BufferPool(Arena arena, MemorySegment region, int frameSize, boolean trackLeaks) {
        if (frameSize < 128 || frameSize > MAX_FRAME_SIZE) {
            throw new IllegalArgumentException("frame size must be 128.." + MAX_FRAME_SIZE + " bytes, got " + frameSize);
        }
        long count = region.byteSize() / frameSize;
        if (count < 1 || count > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("region of " + region.byteSize() + " bytes holds no "
                    + frameSize + "-byte frame");
        }
        this.arena = arena;
        this.region = region;
        this.trackLeaks = trackLeaks;
        this.buffers = new PacketBuffer[(int) count];
        this.freeStack = new int[(int) count];
        for (int i = 0; i < count; i++) {
            buffers[i] = new PacketBuffer(this, i, region.asSlice((long) i * frameSize, frameSize));
            freeStack[i] = (int) count - 1 - i; // lowest index handed out first
        }
        this.freeCount = (int) count;
    }

    /** A pool of {@code count} frames of {@code frameSize} bytes in fresh off-heap memory. */
    public static BufferPool allocate(int count, int frameSize) {
        if (count < 1) {
            throw new IllegalArgumentException("buffer count must be positive, got " + count);
        }
        Arena arena = Arena.ofShared();
        MemorySegment region = arena.allocate((long) count * frameSize, 64);
        return new BufferPool(arena, region, frameSize, Boolean.getBoolean(TRACK_LEAKS_PROPERTY));
    }

    /** A pool over memory the caller owns (and frees after closing this pool). */
    public static BufferPool over(MemorySegment region, int frameSize) {
        return new BufferPool(null, region, frameSize, Boolean.getBoolean(TRACK_LEAKS_PROPERTY));
    }

    /** Takes a free frame for {@code owner}, or returns null when none is left (counted). */
    public PacketBuffer acquire(BufferOwner owner) {
        if (freeCount == 0) {
            exhausted++;
            return null;
        }
        PacketBuffer b = buffers[freeStack[--freeCount]];
        b.claim(owner);
        if (trackLeaks) {
            b.acquiredAt = new Throwable("buffer " + b.index() + " acquired by " + owner.name());
        }
        return b;
    }

    void free(PacketBuffer b) {
        if (b.owner() == null) {
            throw new IllegalStateException("buffer " + b.index() + " released twice");
        }
        b.clearOwner();
        b.acquiredAt = null;
        freeStack[freeCount++] = b.index();
    }

    /** The buffer with this descriptor index (drivers translate ring descriptors). */
    public PacketBuffer buffer(int index) {
        return buffers[index];
    }

    public MemorySegment region() {
        return region;
    }

    public int frameSize() {
        return (int) buffers[0].segment().byteSize();
    }

    public int capacity() {
        return buffers.length;
    }

    public int available() {
        return freeCount;
    }

    public int outstanding() {
        return buffers.length - freeCount;
    }

    /** How many acquires found the pool empty. */
    public long exhaustedCount() {
        return exhausted;
    }

    /**
     * One line per buffer not in the pool: its owner and, with leak tracking, where it was
     * acquired. Empty when every buffer is home.
     */
    public List<String> leaks() {
        List<String> out = new ArrayList<>();
        for (PacketBuffer b : buffers) {
            if (b.owner() != null) {
                StringBuilder sb = new StringBuilder(b.toString());
                if (b.acquiredAt != null) {
                    for (StackTraceElement e : b.acquiredAt.getStackTrace()) {
                        sb.append("\n    at ").append(e);
                    }
                }
                out.add(sb.toString());
            }
        }
        return out;
    }

    /** Frees the memory if this pool allocated it. Buffers must not be used afterwards. */
    @Override
    public void close() {
        if (arena != null && arena.scope().isAlive()) {
            arena.close();
        }
    }
}
