package io.slipstream.ip;

/** What the IPv4 and ICMP layers count. */
public enum IpCounter {
    RX_DATAGRAMS,
    /** Addressed to another host: a stack does not forward. */
    RX_NOT_FOR_US,
    /** Source is broadcast, multicast or our own address. */
    RX_BAD_SOURCE,
    RX_UNKNOWN_PROTOCOL,
    RX_FRAGMENTS,
    REASSEMBLED,
    /** Every reassembly slot was busy. */
    REASSEMBLY_NO_SLOT,
    REASSEMBLY_TIMEOUTS,
    /** Fragments that disagree with the datagram they claim to belong to. */
    REASSEMBLY_INCONSISTENT,
    TX_DATAGRAMS,
    TX_FRAGMENTS,
    TX_NO_ROUTE,
    TX_NO_BUFFER,
    /** DF set and larger than the MTU. */
    TX_TOO_BIG,
    /** Datagrams to our own address, delivered through the stack's loopback queue. */
    TX_LOOPBACK,
    ICMP_ECHO_REQUESTS,
    ICMP_ECHO_REPLIES_SENT,
    ICMP_ECHO_REPLIES_RECEIVED,
    ICMP_ECHO_BROADCAST_IGNORED,
    ICMP_ERRORS_RECEIVED,
    /** ICMP errors whose quoted datagram was not ours or was malformed. */
    ICMP_ERRORS_IGNORED,
    ICMP_ERRORS_SENT,
    ICMP_ERRORS_RATE_LIMITED,
    ICMP_UNSUPPORTED_TYPE
}
