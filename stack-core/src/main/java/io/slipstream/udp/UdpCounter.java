package io.slipstream.udp;

/** What the UDP layer counts. */
public enum UdpCounter {
    RX_DATAGRAMS,
    TX_DATAGRAMS,
    /** No socket bound to the destination port (answered with port unreachable). */
    NO_PORT,
    /** The socket is connected to another peer. */
    WRONG_PEER,
    /** The socket's receive buffer was full. */
    RCVBUF_FULL,
    /** The application's buffer was smaller than the datagram; the rest was discarded. */
    TRUNCATED,
    TX_NO_BUFFER,
    ICMP_ERRORS_REPORTED
}
