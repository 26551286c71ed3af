package io.slipstream.tcp;

/**
 * CUBIC (RFC 9438): window growth W(t) = C·(t − K)³ + W_max in the congestion-avoidance
 * phase, never below the Reno-friendly estimate (§4.3), β = 0.7, C = 0.4, fast convergence
 * (§4.7). Slow start is standard (RFC 5681).
 */
public final class Cubic extends NewReno {
    private static final double C = 0.4;
    private static final double BETA = 0.7;

    private double wMaxSegments;
    private double kSeconds;
    private long epochStart = Long.MIN_VALUE;
    private double wEstSegments;
    private long ackedInEpoch;

    public Cubic(int mss) {
        super(mss);
    }

    @Override
    public void onAck(long acked, int mss, long nowNanos, long srttNanos) {
        if (cwnd < ssthresh) {
            cwnd += Math.min(acked, mss);
            return;
        }
        if (epochStart == Long.MIN_VALUE) {
            epochStart = nowNanos;
            double cwndSeg = (double) cwnd / mss;
            if (wMaxSegments < cwndSeg) {
                kSeconds = 0;
                wMaxSegments = cwndSeg;
            } else {
                kSeconds = Math.cbrt((wMaxSegments - cwndSeg) / C); // RFC 9438 eqn. 2
            }
            wEstSegments = cwndSeg;
            ackedInEpoch = 0;
        }
        ackedInEpoch += acked;
        double t = (nowNanos - epochStart + srttNanos) / 1e9;
        double target = C * Math.pow(t - kSeconds, 3) + wMaxSegments; // eqn. 1, one RTT ahead
        double cwndSeg = (double) cwnd / mss;
        // Reno-friendly region (eqn. 4): α = 3(1 − β)/(1 + β) segments per RTT
        wEstSegments += 3 * (1 - BETA) / (1 + BETA) * ((double) acked / mss) / cwndSeg;
        double next = Math.max(target, wEstSegments);
        if (next > cwndSeg) {
            // grow by (target − cwnd)/cwnd per segment acked, at most 1.5× per RTT (§4.2)
            double inc = Math.min(next - cwndSeg, cwndSeg / 2) * ((double) acked / mss) / cwndSeg;
            cwnd += Math.max(1, (long) (inc * mss));
        }
    }

    @Override
    public void onFastRecovery(long flight, int mss, long nowNanos) {
        reduce(mss);
        cwnd = ssthresh;
    }

    @Override
    public void onTimeout(long flight, int mss, long nowNanos) {
        reduce(mss);
        cwnd = mss;
    }

    @Override
    public void undo(long priorCwnd, long priorSsthresh) {
        super.undo(priorCwnd, priorSsthresh);
        epochStart = Long.MIN_VALUE; // the curve restarts from the restored window
    }

    private void reduce(int mss) {
        double cwndSeg = (double) cwnd / mss;
        // fast convergence (§4.7): release bandwidth when W_max keeps shrinking
        wMaxSegments = cwndSeg < wMaxSegments ? cwndSeg * (1 + BETA) / 2 : cwndSeg;
        ssthresh = Math.max((long) (cwnd * BETA), 2L * mss); // eqn. 3
        epochStart = Long.MIN_VALUE;
    }

    double wMaxSegments() {
        return wMaxSegments;
    }
}
