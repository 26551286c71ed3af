package io.slipstream.tcp;

/** The eleven connection states of RFC 9293 §3.3.2. */
public enum TcpState {
    CLOSED, LISTEN, SYN_SENT, SYN_RECEIVED, ESTABLISHED, FIN_WAIT_1, FIN_WAIT_2, CLOSE_WAIT, CLOSING,
    LAST_ACK, TIME_WAIT;

    /** Whether the state is synchronized (RFC 9293 §3.5: both ISNs known). */
    public boolean isSynchronized() {
        return ordinal() >= SYN_RECEIVED.ordinal();
    }

    /** Whether data from the peer is still accepted. */
    public boolean receivesData() {
        return this == ESTABLISHED || this == FIN_WAIT_1 || this == FIN_WAIT_2;
    }

    /** Whether the application may still queue data to send. */
    public boolean sendsData() {
        return this == ESTABLISHED || this == CLOSE_WAIT || this == SYN_SENT || this == SYN_RECEIVED;
    }

    /**
     * The transitions of RFC 9293's state diagram (Figure 5), plus the ones every state has to
     * CLOSED on reset, abort or timeout, and SYN-RECEIVED back to LISTEN (§3.10.7.4).
     */
    public boolean canMoveTo(TcpState next) {
        if (next == CLOSED) {
            return this != CLOSED;
        }
        return switch (this) {
            case CLOSED -> next == LISTEN || next == SYN_SENT;
            case LISTEN -> next == SYN_RECEIVED || next == SYN_SENT;
            case SYN_SENT -> next == SYN_RECEIVED || next == ESTABLISHED;
            case SYN_RECEIVED -> next == ESTABLISHED || next == FIN_WAIT_1 || next == LISTEN || next == CLOSE_WAIT;
            case ESTABLISHED -> next == FIN_WAIT_1 || next == CLOSE_WAIT;
            case FIN_WAIT_1 -> next == FIN_WAIT_2 || next == CLOSING || next == TIME_WAIT;
            case FIN_WAIT_2 -> next == TIME_WAIT;
            case CLOSE_WAIT -> next == LAST_ACK;
            case CLOSING -> next == TIME_WAIT;
            case LAST_ACK, TIME_WAIT -> false;
        };
    }
}
