package io.slipstream.driver.xdp;

import io.slipstream.buffer.BufferPool;
import io.slipstream.linux.Libc;
import io.slipstream.linux.Mmap;
import io.slipstream.nic.NicException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * The AF_XDP UMEM and the stack's packet buffers are one and the same memory: an anonymous,
 * page-aligned mapping cut into {@code chunkSizeBytes} chunks, each chunk one
 * {@link io.slipstream.buffer.PacketBuffer} of the stack's {@link BufferPool}. A descriptor's
 * UMEM address is therefore {@code index * chunkSizeBytes + offset}, and a frame goes from the
 * NIC ring to the stack and back with no copy.
 *
 * <p>Aligned chunk mode: chunks are a power of two from 2048 bytes to a page. The kernel puts a
 * received frame {@link io.slipstream.linux.Xsk#XDP_PACKET_HEADROOM} bytes into its chunk.
 */
final class Umem implements AutoCloseable {
    /** The region's lifetime: closing it unmaps the memory, and buffers touched after that throw. */
    private final Arena arena;
    private final MemorySegment region;
    private final BufferPool pool;
    private final int chunkSizeBytes;
    private final int chunkShift;
    private boolean closed;

    private Umem(Arena arena, MemorySegment region, int chunkSizeBytes) {
        this.arena = arena;
        this.region = region;
        this.chunkSizeBytes = chunkSizeBytes;
        this.chunkShift = Integer.numberOfTrailingZeros(chunkSizeBytes);
        this.pool = BufferPool.over(region, chunkSizeBytes);
    }

    static Umem allocate(String ifname, Libc libc, int chunks, int chunkSizeBytes) {
        if (Integer.bitCount(chunkSizeBytes) != 1 || chunkSizeBytes < 2048 || chunkSizeBytes > Mmap.PAGE_SIZE) {
            throw new NicException("xdp " + ifname + ": frames of " + chunkSizeBytes
                    + " bytes cannot be UMEM chunks (a power of two, 2048.." + Mmap.PAGE_SIZE + ")");
        }
        Arena arena = Arena.ofShared();
        MemorySegment region = Mmap.anonymous(libc, (long) chunks * chunkSizeBytes, arena);
        if (region == null) {
            arena.close();
            throw new NicException("xdp " + ifname + ": mapping " + chunks + " UMEM chunks: " + libc.failure("mmap"));
        }
        return new Umem(arena, region, chunkSizeBytes);
    }

    MemorySegment region() {
        return region;
    }

    BufferPool pool() {
        return pool;
    }

    int chunkSizeBytes() {
        return chunkSizeBytes;
    }

    /** The chunk (buffer index) a UMEM address falls in. */
    int chunkOf(long umemAddress) {
        return (int) (umemAddress >>> chunkShift);
    }

    /** The offset of a UMEM address within its chunk. */
    int offsetOf(long umemAddress) {
        return (int) (umemAddress & (chunkSizeBytes - 1));
    }

    /** The UMEM address of byte {@code offset} of chunk {@code index}. */
    long address(int index, int offset) {
        return ((long) index << chunkShift) + offset;
    }

    /** Unmaps the memory: only once no socket uses it and no buffer is touched again. Idempotent. */
    @Override
    public void close() {
        if (!closed) {
            closed = true;
            pool.close();
            arena.close();
        }
    }
}
