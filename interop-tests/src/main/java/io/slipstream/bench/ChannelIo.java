package io.slipstream.bench;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;

/**
 * Whole-buffer reads and writes on a {@link SocketChannel}, blocking or not: on a non-blocking
 * channel they spin (a read or write that moves nothing is tried again), which is how the
 * benchmarks' spinning variants wait.
 */
public final class ChannelIo {
    private ChannelIo() {}

    /** Reads until {@code b} is full; end of stream first is an IOException. */
    public static void readFully(SocketChannel c, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) {
            if (c.read(b) < 0) {
                throw new IOException("EOF");
            }
        }
    }

    public static void writeFully(SocketChannel c, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) {
            c.write(b);
        }
    }
}
