package io.slipstream.shim.kernel;

import io.slipstream.linux.Errno;
import io.slipstream.linux.Sockets;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;

/**
 * Reads and writes between ByteBuffers and a non-blocking descriptor (socket or pipe). Results
 * follow the JDK's IOStatus: a count, {@link #EOF}, or {@link #UNAVAILABLE} when the call would
 * have blocked.
 */
public final class FdIo {
    public static final int EOF = -1;
    public static final int UNAVAILABLE = -2;
    /** Gathering and scattering copy through native memory at most this much per call. */
    private static final int MAX_VECTOR_BYTES = 1 << 20;

    private FdIo() {}

    /** Into {@code dst}; errors of a stream socket or pipe. */
    public static int read(KernelFd fd, ByteBuffer dst, boolean socket) throws IOException {
        return transfer(fd, dst, socket, false);
    }

    /** From {@code src}; a socket is written with MSG_NOSIGNAL so a reset peer is EPIPE, not SIGPIPE. */
    public static int write(KernelFd fd, ByteBuffer src, boolean socket) throws IOException {
        return transfer(fd, src, socket, true);
    }

    private static int transfer(KernelFd fd, ByteBuffer buffer, boolean socket, boolean write) throws IOException {
        if (!fd.acquire()) {
            throw new ClosedChannelException();
        }
        try {
            int want = buffer.remaining();
            Sockets s = NativeScratch.sockets();
            MemorySegment seg = MemorySegment.ofBuffer(buffer);
            long n;
            if (write) {
                n = socket ? s.sendTo(fd.fd(), seg, want, Sockets.MSG_NOSIGNAL, MemorySegment.NULL, 0) : s.write(fd.fd(), seg, want);
            } else {
                n = socket ? s.recvFrom(fd.fd(), seg, want, 0, MemorySegment.NULL, MemorySegment.NULL) : s.read(fd.fd(), seg, want);
            }
            if (n < 0) {
                if (s.errno() == Errno.EAGAIN) {
                    return UNAVAILABLE;
                }
                throw KernelErrors.streamError(s.errno());
            }
            if (n == 0 && !write && want > 0) {
                return EOF;
            }
            buffer.position(buffer.position() + (int) n);
            return (int) n;
        } finally {
            fd.release();
        }
    }

    /**
     * Reads into {@code dst}, or scatters into {@code dsts[offset..offset+length)} when
     * {@code dst} is null; in blocking mode parks on the {@link Poller} until something arrives,
     * the descriptor is closed (returns UNAVAILABLE), or {@code timeoutNanos} pass (0: no limit)
     * with SocketTimeoutException.
     */
    public static long read(KernelFd fd, ByteBuffer dst, ByteBuffer[] dsts, int offset, int length, boolean socket,
            boolean blocking, long timeoutNanos) throws IOException {
        long deadlineNanos = Timeouts.deadlineNanos(timeoutNanos);
        while (true) {
            long n = dst != null ? read(fd, dst, socket) : read(fd, dsts, offset, length, socket);
            if (n != UNAVAILABLE || !blocking || fd.isClosed()) {
                return n;
            }
            Poller.awaitReadable(fd, Timeouts.waitNanos(timeoutNanos, deadlineNanos, "Read timed out"));
            if (fd.isClosed()) {
                return UNAVAILABLE; // closed while waiting: the channel reports the asynchronous close
            }
        }
    }

    /**
     * Writes {@code src}, or gathers {@code srcs[offset..offset+length)} when {@code src} is
     * null; returns the bytes written. In blocking mode writes everything, parking while the
     * kernel's buffer is full, unless the descriptor is closed meanwhile.
     */
    public static long write(KernelFd fd, ByteBuffer src, ByteBuffer[] srcs, int offset, int length, boolean socket,
            boolean blocking) throws IOException {
        long written = 0;
        while (true) {
            long n = src != null ? write(fd, src, socket) : write(fd, srcs, offset, length, socket);
            if (n > 0) {
                written += n;
            }
            boolean more = src != null ? src.hasRemaining() : hasRemaining(srcs, offset, length);
            if (!blocking || !more || fd.isClosed()) {
                return written;
            }
            if (n == UNAVAILABLE) {
                Poller.awaitWritable(fd, 0);
                if (fd.isClosed()) {
                    return written;
                }
            }
        }
    }

    /** Whether any of the buffers has bytes remaining. */
    public static boolean hasRemaining(ByteBuffer[] bufs, int offset, int length) {
        for (int i = offset; i < offset + length; i++) {
            if (bufs[i].hasRemaining()) {
                return true;
            }
        }
        return false;
    }

    /** Scattering read: one system call into native memory, then spread over {@code dsts}. */
    public static long read(KernelFd fd, ByteBuffer[] dsts, int offset, int length, boolean socket)
            throws IOException {
        return transfer(fd, dsts, offset, length, socket, false);
    }

    /** Gathering write: {@code srcs} copied into native memory, one system call. */
    public static long write(KernelFd fd, ByteBuffer[] srcs, int offset, int length, boolean socket)
            throws IOException {
        return transfer(fd, srcs, offset, length, socket, true);
    }

    /** One system call through a native staging buffer of at most {@link #MAX_VECTOR_BYTES}. */
    private static long transfer(KernelFd fd, ByteBuffer[] bufs, int offset, int length, boolean socket, boolean write)
            throws IOException {
        long total = BufferVectors.remaining(bufs, offset, length);
        if (total == 0) {
            return 0;
        }
        try (Arena arena = Arena.ofConfined()) {
            ByteBuffer staging = arena.allocate(Math.min(total, MAX_VECTOR_BYTES)).asByteBuffer();
            if (write) {
                BufferVectors.gather(bufs, offset, length, staging);
                staging.flip();
            }
            int n = transfer(fd, staging, socket, write);
            if (n > 0 && write) {
                BufferVectors.consume(bufs, offset, length, n);
            } else if (n > 0) {
                BufferVectors.scatter(staging.flip(), bufs, offset, length);
            }
            return n;
        }
    }
}
