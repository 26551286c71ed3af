package io.slipstream.nic;

import io.slipstream.buffer.PacketBuffer;

/**
 * Empty buffers the stack lends to the NIC to receive into. A frame that arrives while no
 * buffer is posted is dropped by the NIC and counted ({@link NicCounter#RX_NO_BUFFER}).
 */
public interface RxRing {
    /**
     * Posts an empty buffer owned by {@link VirtualInterface#stackOwner()}; on success the ring
     * owns it. Returns false (and keeps nothing) when the ring is full.
     */
    boolean post(PacketBuffer empty);

    int capacity();

    /** Buffers posted and not yet returned in an rx event. */
    int posted();
}
