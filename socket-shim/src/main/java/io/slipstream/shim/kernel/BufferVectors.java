package io.slipstream.shim.kernel;

import java.nio.ByteBuffer;

/**
 * Scatter and gather through one staging buffer, for the vector reads and writes that are
 * done as one system call (or one datagram) on contiguous memory.
 */
public final class BufferVectors {
    private BufferVectors() {}

    /**
     * Refuses a read into a read-only buffer, as the JDK's IOUtil does, before any byte is taken
     * from the source: {@code dst}, or when it is null each of {@code dsts[offset..offset+length)}.
     */
    public static void checkWritable(ByteBuffer dst, ByteBuffer[] dsts, int offset, int length) {
        if (dst != null) {
            if (dst.isReadOnly()) {
                throw new IllegalArgumentException("Read-only buffer");
            }
            return;
        }
        for (int i = offset; i < offset + length; i++) {
            if (dsts[i].isReadOnly()) {
                throw new IllegalArgumentException("Read-only buffer");
            }
        }
    }

    /** Bytes remaining in {@code bufs[offset..offset+length)}. */
    public static long remaining(ByteBuffer[] bufs, int offset, int length) {
        long total = 0;
        for (int i = offset; i < offset + length; i++) {
            total += bufs[i].remaining();
        }
        return total;
    }

    /** Copies {@code staging}'s remaining bytes into the buffers in turn. */
    public static void scatter(ByteBuffer staging, ByteBuffer[] dsts, int offset, int length) {
        for (int i = offset; i < offset + length && staging.hasRemaining(); i++) {
            ByteBuffer d = dsts[i];
            int k = Math.min(d.remaining(), staging.remaining());
            d.put(staging.slice(staging.position(), k));
            staging.position(staging.position() + k);
        }
    }

    /** Copies what fits of the buffers' remaining bytes into {@code staging}, without moving them. */
    public static void gather(ByteBuffer[] srcs, int offset, int length, ByteBuffer staging) {
        for (int i = offset; i < offset + length && staging.hasRemaining(); i++) {
            ByteBuffer s = srcs[i];
            int k = Math.min(s.remaining(), staging.remaining());
            staging.put(s.slice(s.position(), k));
        }
    }

    /** Moves the buffers' positions past {@code count} bytes, as a gathering write consumed them. */
    public static void consume(ByteBuffer[] srcs, int offset, int length, long count) {
        long left = count;
        for (int i = offset; i < offset + length && left > 0; i++) {
            ByteBuffer s = srcs[i];
            int k = (int) Math.min(s.remaining(), left);
            s.position(s.position() + k);
            left -= k;
        }
    }
}
