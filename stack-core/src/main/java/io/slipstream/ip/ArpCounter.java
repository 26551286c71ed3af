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
    /** No room for another neighbour entry. */
    TABLE_FULL_DROPS,
    /** A frame for transmission could not get a buffer. */
    NO_BUFFER
}
