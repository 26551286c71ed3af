package io.slipstream.replay;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;

/**
 * What a scripted application has asked its connection to send and not yet handed over: writes
 * the send buffer could not take yet, in order, then a shutdown or close, which waits for them.
 */
final class PendingOutput {
    /** The connection's sending calls, as the live end's socket API has them. */
    interface Connection {
        /** Hands over what it can of {@code data}, advancing its position. */
        void write(ByteBuffer data) throws IOException;

        void shutdownOutput() throws IOException;

        void close() throws IOException;
    }

    private final ArrayDeque<ByteBuffer> writes = new ArrayDeque<>();
    private boolean shutdown;
    private boolean close;

    void write(byte[] data) {
        writes.add(ByteBuffer.wrap(data));
    }

    void shutdown() {
        shutdown = true;
    }

    void close() {
        close = true;
    }

    /** Hands over what the connection takes; once every write has gone, the close or shutdown asked for. */
    void flush(Connection c) throws IOException {
        while (!writes.isEmpty()) {
            ByteBuffer b = writes.peek();
            c.write(b);
            if (b.hasRemaining()) {
                return;
            }
            writes.poll();
        }
        if (close) {
            close = false;
            shutdown = false;
            c.close();
        } else if (shutdown) {
            shutdown = false;
            c.shutdownOutput();
        }
    }
}
