package io.slipstream.tcp;

/** What the TCP layer counts, per reason (the layer's {@code Counters<TcpCounter>}). */
public enum TcpCounter {
    SEGMENTS_RECEIVED,
    SEGMENTS_SENT,
    /** Segments sent with data (as Linux's tcpi_data_segs_out): the rest are ACKs and control segments. */
    DATA_SEGMENTS_SENT,
    /** Truncated, bad header length or bad options. */
    DROP_MALFORMED,
    DROP_BAD_CHECKSUM,
    /** No connection or listener for the segment (answered with a RST when it carries none). */
    DROP_NO_SOCKET,
    /** Failed the acceptability test of RFC 9293 §3.10.7.4 (answered with an ACK). */
    DROP_UNACCEPTABLE,
    /** Older timestamp than TS.Recent (RFC 7323 §5 PAWS). */
    DROP_PAWS,
    /** RST outside the window (RFC 5961 §3). */
    DROP_OUT_OF_WINDOW_RST,
    /** ACK of data not sent, too old an ACK (RFC 5961 §5), or no ACK bit. */
    DROP_BAD_ACK,
    /** No packet buffer free to send a segment. */
    DROP_NO_BUFFER,
    /** Out-of-order data with every range of the queue in use. */
    DROP_OUT_OF_ORDER_FULL,
    /**
     * SYN, or the handshake's last ACK, to a listener whose accept queue is full: dropped, so
     * that the peer retries (Linux with {@code tcp_abort_on_overflow=0}).
     */
    DROP_LISTEN_OVERFLOW,
    /**
     * An ACK to a listener that sent SYN cookies lately, failing the cookie check: dropped, not
     * reset, since it may be a real client's whose handshake ACK was lost (its retransmission
     * of the first segment carries the cookie again), as Linux does.
     */
    DROP_COOKIE_CHECK,
    /**
     * SYNs to listeners beyond {@code slipstream.tcp.syn.per.poll} in one poll pass: dropped
     * unanswered (a flood), so established connections' segments in the pass are not delayed.
     */
    DROP_SYN_BUDGET,
    /** SYN with FIN to a listener: dropped without an answer, as Linux does. */
    DROP_SYN_FIN,
    /**
     * Data beyond the receive window, such as a zero-window probe carrying a new byte: not
     * taken, the rest of the segment (its ACK) processed, answered with an ACK.
     */
    DROP_BEYOND_WINDOW,
    /** New data after the application closed: cannot be delivered, so answered with a RST (RFC 1122 §4.2.2.13). */
    DROP_DATA_AFTER_CLOSE,
    /** An exception inside the layer (a bug): the segment or timer was dropped. */
    DROP_INTERNAL_ERROR,
    RETRANSMITS,
    RTO_EXPIRIES,
    FAST_RETRANSMITS,
    SACK_RECOVERIES,
    /** RFC 8985 §7: tail loss probes sent (new data or the last segment again) before an RTO. */
    TAIL_LOSS_PROBES,
    /** RFC 8985 §7.4: probes that repaired a loss (the congestion window is reduced as for one). */
    TAIL_LOSS_PROBE_RECOVERIES,
    /** RFC 2883: ACKs reporting data the peer received twice (D-SACK). */
    DSACKS_RECEIVED,
    /** RFC 2883 §4: D-SACKs sent for data received twice. */
    DSACKS_SENT,
    /** Congestion responses undone: D-SACKs showed every retransmission of the episode needless (RFC 3708). */
    CONGESTION_UNDOS,
    /** Timeouts found spurious by F-RTO (RFC 5682 §3.1): data never retransmitted was acknowledged after them. */
    SPURIOUS_TIMEOUTS,
    CHALLENGE_ACKS,
    /** Challenge ACKs not sent: over the RFC 5961 §7 budget. */
    CHALLENGE_ACKS_THROTTLED,
    SYN_COOKIES_SENT,
    SYN_COOKIES_ACCEPTED,
    SYN_COOKIES_REJECTED,
    RESETS_SENT,
    RESETS_RECEIVED,
    CONNECTIONS_OPENED,
    CONNECTIONS_ACCEPTED,
    /** Gave up: SYN or data retransmissions exhausted, or keepalive unanswered. */
    CONNECTIONS_TIMED_OUT,
    KEEP_ALIVE_PROBES,
    ZERO_WINDOW_PROBES,
    TIME_WAIT_REUSED,
    OUT_OF_ORDER_SEGMENTS,
    /** Data already held out of order, received again. */
    DUPLICATE_SEGMENTS
}
