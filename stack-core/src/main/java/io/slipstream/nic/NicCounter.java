package io.slipstream.nic;

/** What a driver counts. Every frame the NIC itself drops is one of these. */
public enum NicCounter {
    RX_FRAMES,
    RX_BYTES,
    /** Polls that took frames from a copying device (TAP, packet) until it had none or the poll's limit came: rx_frames / rx_batches is the mean batch. */
    RX_BATCHES,
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
    LINK_CORRUPTIONS,
    /** System calls made because the kernel asked to be woken to send (AF_XDP need_wakeup). */
    TX_KICKS,
    /** System calls made because the kernel asked to be woken to take fill buffers. */
    RX_KICKS,
    /** AF_XDP: frames the kernel dropped because the rx ring was full. */
    XDP_RX_RING_FULL,
    /** AF_XDP: descriptors that named no buffer lent to that ring, or that the kernel found invalid. */
    XDP_INVALID_DESCRIPTORS,
    /** AF_XDP: queues bound in zero-copy mode (set once at open). */
    XDP_ZEROCOPY_QUEUES,
    /** AF_XDP: queues bound in copy mode (set once at open). */
    XDP_COPY_QUEUES,
    /** AF_XDP: 1 when the XDP program runs in the driver (native mode). */
    XDP_NATIVE,
    /** AF_XDP: 1 when the XDP program runs in the generic (SKB) path. */
    XDP_GENERIC,
    /** AF_PACKET: frames the kernel dropped because no block of the rx ring was free (PACKET_STATISTICS tp_drops). */
    PACKET_RX_RING_FULL,
    /** AF_PACKET: times the kernel froze the rx queue for want of a free block (tp_freeze_q_cnt). */
    PACKET_RX_FREEZES
}
