package io.slipstream.nic;

import io.slipstream.buffer.PacketBuffer;

/**
 * Frames queued for sending. Posting hands the buffer (range = the whole Ethernet frame) to
 * the ring; it comes back in a tx-complete event. Nothing goes out before {@link #doorbell()},
 * so a burst of frames costs one notification.
 */
public interface TxRing {
    /** Queues a frame; returns false (and keeps nothing) when the ring is full. */
    boolean post(PacketBuffer frame);

    /** Tells the NIC that frames are waiting. */
    void doorbell();

    int capacity();

    /** Frames posted and not yet completed. */
    int posted();
}
