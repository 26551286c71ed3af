package io.slipstream.ip;

import io.slipstream.buffer.BufferOwner;
import io.slipstream.buffer.PacketBuffer;

/** What the IP and ARP layers need from the stack below them: send one Ethernet frame. */
public interface LinkOutput {
    /** The interface's MAC address. */
    long mac();

    /**
     * Queues a finished Ethernet frame (range = the frame) for transmission. Ownership passes
     * to the link; a frame that cannot be queued is dropped and counted there.
     */
    void transmit(PacketBuffer frame, BufferOwner from);
}
