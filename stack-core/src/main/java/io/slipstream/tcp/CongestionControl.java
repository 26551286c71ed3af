package io.slipstream.tcp;

/**
 * A congestion controller: owns cwnd and ssthresh (bytes). The connection tells it about
 * ACKs, loss episodes and timeouts; loss recovery itself (which segment to resend) lives in
 * the connection. One instance per connection, created at connection setup.
 */
public interface CongestionControl {
    /** Congestion window in bytes. */
    long cwnd();

    long ssthresh();

    /** New data acknowledged outside recovery. */
    void onAck(long ackedBytes, int mss, long nowNanos, long srttNanos);

    /** Entering fast recovery (RFC 5681 §3.2 step 2): sets ssthresh and cwnd. */
    void onFastRecovery(long flightBytes, int mss, long nowNanos);

    /** Leaving recovery on a full ACK (RFC 6582 §3.2 step 3). */
    void onRecoveryEnd(long flightBytes, int mss);

    /** Retransmission timeout (RFC 5681 §3.1 eqn. 4, cwnd = 1 MSS). */
    void onTimeout(long flightBytes, int mss, long nowNanos);

    /**
     * The reduction was needless (a spurious timeout or retransmissions, RFC 3708 / RFC 5682):
     * cwnd and ssthresh back to at least what they were before it.
     */
    void undo(long priorCwnd, long priorSsthresh);

    /** Sets cwnd directly (NewReno inflation/deflation during recovery). */
    void setCwnd(long cwnd);

    /**
     * RFC 6928 initial window, min(10·MSS, max(2·MSS, 14600)): ten segments at the usual MSS,
     * as Linux uses, so a small response leaves in one flight (RFC 5681's allowed only 3–4).
     */
    static long initialWindow(int mss) {
        return Math.min(10L * mss, Math.max(2L * mss, 14_600));
    }

    static CongestionControl create(String name, int mss) {
        return name.equals("newreno") ? new NewReno(mss) : new Cubic(mss);
    }
}
