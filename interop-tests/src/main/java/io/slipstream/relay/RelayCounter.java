package io.slipstream.relay;

/** What the relay did to the frames of one direction. */
public enum RelayCounter {
    /** Frames read from the direction's input interface. */
    FRAMES_IN,
    /** Frames written to the output interface, duplicates and reordered ones included. */
    FRAMES_OUT,
    BYTES_OUT,
    /** Frames other than IPv4 (ARP), passed without impairment. */
    UNIMPAIRED,
    /** Lost on purpose. */
    LOST,
    /** Sent with one byte changed. */
    CORRUPTED,
    /** Held back behind later frames. */
    REORDERED,
    /** Sent a second time. */
    DUPLICATED,
    /** Larger than a slot (an offload left on, say): dropped. */
    OVERSIZE,
    /** No free slot for the frame (the delay line is full): dropped. */
    QUEUE_FULL,
    /** The output pushed back (EAGAIN, ENOBUFS): the frame was sent on a later pass. */
    TX_RETRIES,
    /** The output failed otherwise: dropped. */
    TX_ERRORS
}
