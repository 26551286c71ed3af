package io.slipstream.nic;

import io.slipstream.buffer.PacketBuffer;

/**
 * Receives the events of an {@link EventQueue} (onload's event types). Buffers handed over
 * belong to the handler from the call on, owned by {@link VirtualInterface#stackOwner()}.
 */
public interface EventHandler {
    /** A received frame in a buffer the stack posted to the rx ring; range = the frame. */
    void onRx(PacketBuffer frame);

    /** A frame the stack posted to the tx ring has been sent; its buffer comes back. */
    void onTxComplete(PacketBuffer frame);

    /** The {@link NicTimer} deadline has passed. */
    void onTimer();

    /** The interrupt fired: the first event after {@link Interrupt#enable()}. */
    void onWakeup();
}
