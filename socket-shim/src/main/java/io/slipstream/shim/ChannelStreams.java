package io.slipstream.shim;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.IllegalBlockingModeException;
import java.util.Objects;
import java.util.function.IntSupplier;

/**
 * The java.io streams of a blocking {@link ShimSocketChannel}, for the Socket adaptor and the
 * classic SocketImpl: reads honour SO_TIMEOUT, and closing a stream closes the channel, as
 * the JDK's socket streams do.
 */
final class ChannelStreams {
    private ChannelStreams() {}

    /** Reads with the timeout {@code timeoutMillis} reports at each read (0: none). */
    static InputStream input(ShimSocketChannel channel, IntSupplier timeoutMillis) {
        return new InputStream() {
            @Override
            public int read() throws IOException {
                byte[] one = new byte[1];
                return read(one, 0, 1) < 0 ? -1 : one[0] & 0xFF;
            }

            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                Objects.checkFromIndexSize(off, len, b.length);
                if (len == 0) {
                    return 0;
                }
                if (!channel.isBlocking()) {
                    throw new IllegalBlockingModeException();
                }
                try {
                    return channel.read(ByteBuffer.wrap(b, off, len), timeoutMillis.getAsInt() * 1_000_000L);
                } catch (ClosedChannelException e) {
                    throw Adaptors.toSocketException(e);
                }
            }

            @Override
            public int available() throws IOException {
                try {
                    return channel.available();
                } catch (ClosedChannelException e) {
                    throw Adaptors.toSocketException(e);
                }
            }

            @Override
            public void close() throws IOException {
                channel.close();
            }
        };
    }

    static OutputStream output(ShimSocketChannel channel) {
        return new OutputStream() {
            @Override
            public void write(int b) throws IOException {
                write(new byte[] {(byte) b}, 0, 1);
            }

            @Override
            public void write(byte[] b, int off, int len) throws IOException {
                Objects.checkFromIndexSize(off, len, b.length);
                if (!channel.isBlocking()) {
                    throw new IllegalBlockingModeException();
                }
                ByteBuffer src = ByteBuffer.wrap(b, off, len);
                try {
                    while (src.hasRemaining()) {
                        channel.write(src);
                    }
                } catch (ClosedChannelException e) {
                    throw Adaptors.toSocketException(e);
                }
            }

            @Override
            public void close() throws IOException {
                channel.close();
            }
        };
    }
}
