package io.slipstream.linux;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * A non-blocking eventfd(2): a counter in the kernel that poll(2) sees as readable while it is
 * non-zero. Drivers add it to the descriptors their interrupt thread polls, so another thread
 * can unblock that wait with one write.
 *
 * <p>{@link #signal} may be called from any thread (each with its own {@link Libc});
 * {@link #drain} belongs to the one thread that waits, since it reads into one buffer.
 */
public final class EventFd {
    private final int fd;
    /** Holds the 8-byte value 1 that every signal adds; written once, then only read. */
    private final MemorySegment one;
    private final MemorySegment drained;

    private EventFd(int fd, MemorySegment one, MemorySegment drained) {
        this.fd = fd;
        this.one = one;
        this.drained = drained;
    }

    /** Creates one (non-blocking, close-on-exec) whose buffers live in {@code arena}. */
    public static EventFd open(Libc libc, Arena arena) throws IOException {
        int fd = libc.eventfd(0, Libc.EFD_NONBLOCK | Libc.EFD_CLOEXEC);
        if (fd < 0) {
            throw new IOException(libc.failure("eventfd"));
        }
        MemorySegment one = arena.allocate(ValueLayout.JAVA_LONG);
        one.set(ValueLayout.JAVA_LONG, 0, 1L);
        return new EventFd(fd, one, arena.allocate(ValueLayout.JAVA_LONG));
    }

    public int fd() {
        return fd;
    }

    /** Adds one to the counter, making the descriptor readable; false if the write failed. */
    public boolean signal(Libc libc) {
        return libc.writeNonBlocking(fd, one.address(), Long.BYTES) == Long.BYTES;
    }

    /** Reads and resets the counter: how many signals arrived since the last drain (0 if none). */
    public long drain(Libc libc) {
        if (libc.readNonBlocking(fd, drained.address(), Long.BYTES) != Long.BYTES) {
            return 0;
        }
        return drained.get(ValueLayout.JAVA_LONG, 0);
    }

    /** Closes the descriptor; the caller makes sure no thread signals or polls it any more. */
    public void close(Libc libc) {
        libc.close(fd);
    }
}
