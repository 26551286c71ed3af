package io.slipstream.nic;

/** What a driver counts. Every frame the NIC itself drops is one of these. */
public enum NicCounter {
    RX_FRAMES,
    RX_BYTES,
    /** A frame arrived while no rx buffer was posted. */
    RX_NO_BUFFER,
    /** A frame larger than a buffer (or the MTU) arrived. */
    RX_OVERSIZE,
    TX_FRAMES,
    TX_BYTES,
    /** The device refused a frame (a failed write, an oversize frame). */
    TX_ERRORS,
    TIMER_EVENTS,
    INTERRUPTS,
    /** Frames the link itself dropped (in-memory impairments). */
    LINK_DROPS,
    LINK_DUPLICATES,
    LINK_REORDERS,
    LINK_CORRUPTIONS
}
