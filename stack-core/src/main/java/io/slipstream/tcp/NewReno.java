package io.slipstream.tcp;

/** RFC 5681 slow start and congestion avoidance, with RFC 6582's recovery hooks. */
public class NewReno implements CongestionControl {
    protected long cwnd;
    protected long ssthresh = Long.MAX_VALUE / 4;
    private long bytesAckedCa;

    public NewReno(int mss) {
        cwnd = CongestionControl.initialWindow(mss);
    }

    @Override
    public long cwnd() {
        return cwnd;
    }

    @Override
    public long ssthresh() {
        return ssthresh;
    }

    @Override
    public void onAck(long acked, int mss, long nowNanos, long srttNanos) {
        if (cwnd < ssthresh) {
            cwnd += Math.min(acked, mss); // RFC 5681 §3.1 eqn. 2 (appropriate byte counting, L=1)
        } else {
            // RFC 5681 §3.1: about one MSS per RTT, counted in bytes acked
            bytesAckedCa += acked;
            if (bytesAckedCa >= cwnd) {
                bytesAckedCa -= cwnd;
                cwnd += mss;
            }
        }
    }

    @Override
    public void onFastRecovery(long flight, int mss, long nowNanos) {
        ssthresh = Math.max(flight / 2, 2L * mss); // RFC 5681 eqn. 4
        cwnd = ssthresh;
    }

    @Override
    public void onRecoveryEnd(long flight, int mss) {
        cwnd = Math.min(ssthresh, Math.max(flight, mss) + mss); // RFC 6582 §3.2 step 3 option 1
    }

    @Override
    public void onTimeout(long flight, int mss, long nowNanos) {
        ssthresh = Math.max(flight / 2, 2L * mss);
        cwnd = mss;
    }

    @Override
    public void undo(long priorCwnd, long priorSsthresh) {
        cwnd = Math.max(cwnd, priorCwnd);
        ssthresh = Math.max(ssthresh, priorSsthresh);
    }

    @Override
    public void setCwnd(long c) {
        cwnd = Math.max(c, 1);
    }
}
