package io.slipstream.ip;

/** What the ARP layer counts. */
public enum ArpCounter {
    REQUESTS_SENT,
    REPLIES_SENT,
    REQUESTS_RECEIVED,
    REPLIES_RECEIVED,
    GRATUITOUS_SENT,
    /** Datagrams held while their next hop was being resolved. */
    QUEUED,
    /** A resolving entry already held its limit of datagrams. */
    QUEUE_FULL_DROPS,
    /** Resolution failed after every retry; the held datagrams were dropped. */
    UNRESOLVED_DROPS,
    /** Neighbours that stayed unresolved (or unconfirmed) through every retry: their entries were removed. */
    RESOLUTION_FAILURES,
    /** No room for another neighbour entry. */
    TABLE_FULL_DROPS,
    /** A frame for transmission could not get a buffer. */
    NO_BUFFER,
    // When the host resolves neighbours (a NIC sharing the host's interface): the stack speaks no ARP.
    /** A frame's next hop had a MAC in the host's neighbour table. */
    HOST_HITS,
    /** A frame's next hop had none: the frame was held while the host resolves it. */
    HOST_MISSES,
    /** Requests that the host resolve a neighbour, or confirm one due for it. */
    HOST_RESOLVE_REQUESTS,
    /** Requests the host did not take (refused, or could not be sent); retried on the timer. */
    HOST_RESOLVE_NOT_SENT,
    /** Neighbours the stack waited for that appeared in the host's table: their held frames left. */
    HOST_RESOLVED,
    /** ARP packets that reached the stack anyway: the host answers and learns; the stack does neither. */
    HOST_ARP_IGNORED
}
