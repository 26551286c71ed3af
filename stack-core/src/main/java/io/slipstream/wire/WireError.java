package io.slipstream.wire;

/**
 * Why a received frame was malformed. The stack drops such frames and counts them per
 * reason; nothing malformed is ever allowed to throw out of the receive path.
 */
public enum WireError {
    ETH_TRUNCATED,
    ETH_OVERSIZE,
    ARP_TRUNCATED,
    ARP_UNSUPPORTED_FORMAT,
    IP_TRUNCATED,
    IP_BAD_VERSION,
    IP_BAD_HEADER_LENGTH,
    IP_BAD_TOTAL_LENGTH,
    IP_BAD_CHECKSUM,
    IP_BAD_FRAGMENT,
    ICMP_TRUNCATED,
    ICMP_BAD_CHECKSUM,
    UDP_TRUNCATED,
    UDP_BAD_LENGTH,
    UDP_BAD_CHECKSUM,
    TCP_TRUNCATED,
    TCP_BAD_HEADER_LENGTH,
    TCP_BAD_CHECKSUM,
    TCP_BAD_OPTIONS
}
