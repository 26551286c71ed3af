package io.slipstream.relay;

/** Where a direction's frames leave the relay: an AF_PACKET socket on the output interface. */
@FunctionalInterface
public interface FrameSink {
    /** The frame went. */
    int SENT = 0;
    /** The output pushed back: try the same frame again later. */
    int BUSY = 1;
    /** The output failed for this frame: drop it. */
    int FAILED = 2;

    /** Sends the {@code length} bytes of native memory at {@code address}; one of {@link #SENT}, {@link #BUSY}, {@link #FAILED}. */
    int send(long address, int length);
}
