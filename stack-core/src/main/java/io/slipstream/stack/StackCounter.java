package io.slipstream.stack;

/** What the stack's link level counts. */
public enum StackCounter {
    POLLS,
    EVENTS,
    RX_FRAMES,
    /** Unicast to another MAC, or a multicast group we have not joined. */
    RX_NOT_FOR_US,
    /** 802.1Q-tagged frames: no VLAN is configured on the interface. */
    RX_VLAN_NOT_CONFIGURED,
    RX_UNSUPPORTED_ETHERTYPE,
    /** The rx ring could not be refilled for lack of free buffers. */
    RX_REFILL_SHORTAGE,
    TX_FRAMES,
    /** Frames that found the tx ring full and waited in the backlog. */
    TX_RING_FULL,
    /** Frames dropped because the tx backlog was full as well. */
    TX_BACKLOG_DROPS,
    LOOPBACK_FRAMES,
    LOOPBACK_DROPS,
    TIMER_EVENTS,
    WAKEUP_EVENTS,
    /**
     * A bug caught at the receive path's last guard: the frame was dropped and the first
     * such exception kept for the stack dump. Always 0 in a correct stack.
     */
    INTERNAL_ERRORS
}
