package io.slipstream.linux;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.Test;

/** The libc bindings against the real C library: results, errno capture, messages. */
class LibcTest {

    @Test
    void failedOpenCapturesErrnoAndNamesIt() {
        try (Arena arena = Arena.ofConfined()) {
            Libc libc = new Libc(arena);
            assertEquals(-1, libc.open("/nonexistent/slipstream", Libc.O_RDWR));
            assertEquals(Errno.ENOENT, libc.errno());
            assertEquals("open /nonexistent/slipstream: ENOENT (No such file or directory)",
                    libc.failure("open /nonexistent/slipstream"));
        }
    }

    @Test
    void errnoIsKeptPerInstance() {
        try (Arena arena = Arena.ofConfined()) {
            Libc first = new Libc(arena);
            Libc second = new Libc(arena);
            MemorySegment buf = arena.allocate(8);
            assertEquals(-1, first.readNonBlocking(-1, buf.address(), 8));
            assertEquals(-1, second.open("/nonexistent/slipstream", Libc.O_RDWR));
            assertEquals(Errno.EBADF, first.errno());
            assertEquals(Errno.ENOENT, second.errno());
        }
    }

    @Test
    void eventFdSignalsMakeItReadableUntilDrained() throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            Libc libc = new Libc(arena);
            EventFd efd = EventFd.open(libc, arena);
            MemorySegment fds = Libc.pollFds(arena, 1);
            Libc.setPollFd(fds, 0, efd.fd(), Libc.POLLIN);
            assertEquals(0, libc.poll(fds, 1, 0), "quiet at first");
            assertEquals(0, efd.drain(libc), "nothing to drain: EAGAIN");
            assertEquals(Errno.EAGAIN, libc.errno());

            assertTrue(efd.signal(libc));
            assertTrue(efd.signal(libc));
            assertEquals(1, libc.pollNow(fds, 1));
            assertEquals(Libc.POLLIN, Libc.revents(fds, 0) & Libc.POLLIN);
            assertEquals(2, efd.drain(libc), "the counter adds up signals");

            Libc.setPollFd(fds, 0, efd.fd(), Libc.POLLIN);
            assertEquals(0, libc.poll(fds, 1, 1), "drained: quiet again (1 ms wait)");
            assertEquals(0, libc.close(efd.fd()));
            assertEquals(-1, libc.close(efd.fd()));
            assertEquals(Errno.EBADF, libc.errno());
        }
    }

    @Test
    void pollReportsAClosedDescriptorAsInvalid() {
        try (Arena arena = Arena.ofConfined()) {
            Libc libc = new Libc(arena);
            MemorySegment fds = Libc.pollFds(arena, 2);
            Libc.setPollFd(fds, 0, -1, Libc.POLLIN); // negative fds are ignored by poll(2)
            Libc.setPollFd(fds, 1, 1_000_000, Libc.POLLIN);
            assertEquals(1, libc.poll(fds, 2, 0));
            assertEquals(0, Libc.revents(fds, 0));
            assertEquals(Libc.POLLNVAL, Libc.revents(fds, 1));
        }
    }

    @Test
    void plainReadAndWriteMoveBytesThroughAnEventFd() throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            Libc libc = new Libc(arena);
            EventFd efd = EventFd.open(libc, arena);
            MemorySegment value = arena.allocate(8);
            value.set(java.lang.foreign.ValueLayout.JAVA_LONG, 0, 41);
            assertEquals(8, libc.write(efd.fd(), value.address(), 8));
            value.set(java.lang.foreign.ValueLayout.JAVA_LONG, 0, 0);
            assertEquals(8, libc.read(efd.fd(), value.address(), 8));
            assertEquals(41, value.get(java.lang.foreign.ValueLayout.JAVA_LONG, 0));
            efd.close(libc);
        }
    }
}
