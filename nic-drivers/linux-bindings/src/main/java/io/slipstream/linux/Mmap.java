package io.slipstream.linux;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

/**
 * mmap(2) and munmap(2): shared mappings of kernel memory (AF_XDP rings), which the caller
 * unmaps with {@link #unmap}, and anonymous page-aligned memory (an AF_XDP UMEM), which an
 * arena unmaps when it closes.
 */
public final class Mmap {
    public static final int PROT_READ = 0x1;
    public static final int PROT_WRITE = 0x2;
    public static final int MAP_SHARED = 0x01;
    public static final int MAP_PRIVATE = 0x02;
    public static final int MAP_ANONYMOUS = 0x20;
    public static final int MAP_POPULATE = 0x8000;
    public static final long PAGE_SIZE = 4096;

    private static final long MAP_FAILED = -1L;

    private static final MethodHandle MMAP = Libc.bind("mmap",
            FunctionDescriptor.of(ADDRESS, JAVA_LONG, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG),
            Linker.Option.captureCallState("errno"));
    private static final MethodHandle MUNMAP = Libc.bind("munmap",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG), Linker.Option.captureCallState("errno"));
    /** For an arena's cleanup, which has no errno capture to hand: a failure there has no one to tell. */
    private static final MethodHandle MUNMAP_QUIET = Libc.bind("munmap", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG));

    private Mmap() {}

    /** Maps {@code length} bytes of {@code fd} at {@code offset}, shared and read-write; null on failure (errno in libc). */
    public static MemorySegment shared(Libc libc, int fd, long length, long offset) {
        return map(libc, length, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, offset);
    }

    /**
     * Maps {@code length} bytes (rounded up to pages) of zeroed anonymous memory that lives as
     * long as {@code arena}: closing the arena unmaps it, and any later access throws instead
     * of touching unmapped memory. Null on failure.
     */
    public static MemorySegment anonymous(Libc libc, long length, Arena arena) {
        long rounded = (length + PAGE_SIZE - 1) / PAGE_SIZE * PAGE_SIZE;
        MemorySegment m = map(libc, rounded, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
        if (m == null) {
            return null;
        }
        long address = m.address();
        return m.reinterpret(length, arena, unused -> unmapQuietly(address, rounded));
    }

    private static void unmapQuietly(long address, long length) {
        try {
            int ignored = (int) MUNMAP_QUIET.invokeExact(MemorySegment.ofAddress(address), length);
        } catch (Throwable t) {
            throw Libc.linkageFailure("munmap", t);
        }
    }

    private static MemorySegment map(Libc libc, long length, int prot, int flags, int fd, long offset) {
        try {
            MemorySegment m = (MemorySegment) MMAP.invokeExact(libc.callState(), 0L, length, prot, flags,
                    fd, offset);
            if (m.address() == MAP_FAILED) {
                return null;
            }
            return m.reinterpret(length);
        } catch (Throwable t) {
            throw Libc.linkageFailure("mmap", t);
        }
    }

    /** Unmaps a mapping made here (its whole length, rounded up to pages); 0 or -1. */
    public static int unmap(Libc libc, MemorySegment mapping) {
        long rounded = (mapping.byteSize() + PAGE_SIZE - 1) / PAGE_SIZE * PAGE_SIZE;
        try {
            return (int) MUNMAP.invokeExact(libc.callState(), MemorySegment.ofAddress(mapping.address()), rounded);
        } catch (Throwable t) {
            throw Libc.linkageFailure("munmap", t);
        }
    }
}
