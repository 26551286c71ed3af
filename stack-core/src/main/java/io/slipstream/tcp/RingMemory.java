package io.slipstream.tcp;

import io.slipstream.buffer.BufferPool;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * The memory of every connection's send and receive rings, owned by the TCP layer: blocks in
 * power-of-two size classes from one arena that lives as long as the layer. A ring's block goes
 * back to its class's free list when the connection lets go of it and serves the next ring of
 * that class, so opening and closing connections costs neither an arena (a shared arena's close
 * is a handshake with every thread) nor fresh zeroed memory. What the busiest moment took stays
 * reserved until {@link #close()}.
 *
 * <p>A recycled block is not cleared: a ring reads only bytes it wrote before (the committed
 * region, or out-of-order data placed at its offset), so a previous owner's bytes are never
 * seen.
 *
 * <p>Not thread-safe: runs under the stack lock, as its layer. With leak tracking on
 * ({@value BufferPool#TRACK_LEAKS_PROPERTY}, as the tests run) every take records where it
 * happened, for {@link #leaks()}.
 */
final class RingMemory implements AutoCloseable {
    /** The smallest class: the least buffer a setting or socket option allows. */
    static final int MIN_BLOCK_BYTES = 1024;
    private static final int MIN_CLASS = Integer.numberOfTrailingZeros(MIN_BLOCK_BYTES);
    /** Up to 1 GiB, the largest buffer setting. */
    private static final int CLASSES = 31 - MIN_CLASS;

    private final Arena arena = Arena.ofShared();
    @SuppressWarnings("unchecked")
    private final ArrayDeque<MemorySegment>[] free = new ArrayDeque[CLASSES];
    private final boolean trackLeaks = Boolean.getBoolean(BufferPool.TRACK_LEAKS_PROPERTY);
    private final Map<ByteRing, Throwable> takenAt = new IdentityHashMap<>();
    private long reservedBytes;
    private long outstandingBytes;
    private int outstandingRings;

    /** A ring of exactly {@code bytes}, in a block of its size class. */
    ByteRing take(int bytes) {
        if (bytes < MIN_BLOCK_BYTES) {
            throw new IllegalArgumentException("ring of " + bytes + " bytes, least " + MIN_BLOCK_BYTES);
        }
        int cls = classOf(bytes);
        ArrayDeque<MemorySegment> list = free[cls];
        MemorySegment block = list == null ? null : list.pollFirst();
        if (block == null) {
            long blockBytes = 1L << (cls + MIN_CLASS);
            block = arena.allocate(blockBytes, 64);
            reservedBytes += blockBytes;
        }
        ByteRing ring = new ByteRing(block, bytes);
        outstandingBytes += block.byteSize();
        outstandingRings++;
        if (trackLeaks) {
            takenAt.put(ring, new Throwable("ring of " + bytes + " bytes taken"));
        }
        return ring;
    }

    /** The ring's block back to its class; the ring must not be used afterwards. */
    void give(ByteRing ring) {
        MemorySegment block = ring.block();
        int cls = classOf((int) block.byteSize());
        if (free[cls] == null) {
            free[cls] = new ArrayDeque<>();
        }
        free[cls].push(block);
        outstandingBytes -= block.byteSize();
        outstandingRings--;
        if (trackLeaks) {
            takenAt.remove(ring);
        }
    }

    private static int classOf(int bytes) {
        return 32 - Integer.numberOfLeadingZeros(bytes - 1) - MIN_CLASS;
    }

    /** Bytes of blocks held by rings now. */
    long outstandingBytes() {
        return outstandingBytes;
    }

    int outstandingRings() {
        return outstandingRings;
    }

    /** Bytes taken from the arena: in use or on a free list. */
    long reservedBytes() {
        return reservedBytes;
    }

    /** One entry per ring not given back, with where it was taken when tracking; empty when all are home. */
    List<String> leaks() {
        if (!trackLeaks) {
            return outstandingRings == 0 ? List.of()
                    : Collections.nCopies(outstandingRings, "ring (leak tracking off)");
        }
        List<String> out = new ArrayList<>();
        for (Throwable t : takenAt.values()) {
            StringBuilder sb = new StringBuilder(t.getMessage());
            for (StackTraceElement e : t.getStackTrace()) {
                sb.append("\n    at ").append(e);
            }
            out.add(sb.toString());
        }
        return out;
    }

    /** Frees every block; rings still held must not be used afterwards. */
    @Override
    public void close() {
        if (arena.scope().isAlive()) {
            arena.close();
        }
    }
}
