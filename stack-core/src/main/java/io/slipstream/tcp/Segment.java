package io.slipstream.tcp;

import io.slipstream.wire.Tcp;
import io.slipstream.wire.TcpOptions;
import java.lang.foreign.MemorySegment;

/**
 * One arriving segment as the connection reads it: the header fields, its parsed options and
 * where its data lies. The layer owns one and refills it for every segment (so the data path
 * allocates nothing); a connection reads it during the call and keeps no reference to it.
 *
 * <p>Runs under the stack lock, as the layer that owns it.
 */
final class Segment {
    int seq;
    int ack;
    int flags;
    /** The window field as received, unscaled. */
    int window;
    int urgent;
    /** The payload: {@link #dataLength} bytes at {@link #dataOffset} in {@link #data}. */
    MemorySegment data;
    long dataOffset;
    int dataLength;
    final TcpOptions options;

    Segment(TcpOptions options) {
        this.options = options;
    }

    /** Refills the holder; returns it. */
    Segment set(MemorySegment data, long dataOffset, int dataLength, int seq, int ack, int flags, int window,
                int urgent) {
        this.data = data;
        this.dataOffset = dataOffset;
        this.dataLength = dataLength;
        this.seq = seq;
        this.ack = ack;
        this.flags = flags;
        this.window = window;
        this.urgent = urgent;
        return this;
    }

    boolean has(int flag) {
        return (flags & flag) != 0;
    }

    boolean syn() {
        return has(Tcp.SYN);
    }
}
