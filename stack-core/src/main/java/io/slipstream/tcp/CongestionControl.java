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

    /** Sets cwnd directly (NewReno inflation/deflation during recovery). */
    void setCwnd(long cwnd);

    /** RFC 5681 §3.1 initial window. */
    static long initialWindow(int mss) {
        return mss > 2190 ? 2L * mss : mss > 1095 ? 3L * mss : 4L * mss;
    }

    static CongestionControl create(String name, int mss) {
        return name.equals("newreno") ? new NewReno(mss) : new Cubic(mss);
    }
}
