package io.slipstream.tcp;

/** Why a connection failed; reported once through {@link TcpConnection#pendingError()}. */
public enum TcpError {
    /** The peer answered the SYN with a RST (ECONNREFUSED). */
    REFUSED,
    /** The peer reset an established connection (ECONNRESET). */
    RESET,
    /** Retransmissions or keepalive probes went unanswered (ETIMEDOUT). */
    TIMED_OUT,
    /** An ICMP destination-unreachable, or no route (EHOSTUNREACH/ENETUNREACH). */
    UNREACHABLE
}
