package io.slipstream.tcp;

/**
 * The retransmission timeout of one connection (RFC 6298): the smoothed RTT and its variation
 * from samples, the RTO with its floor, ceiling and exponential backoff, and the one timed
 * segment of connections without timestamps, with Karn's rule (RFC 6298 §3).
 *
 * <p>Times are nanoseconds. Runs under the stack lock, as its connection.
 */
final class RttEstimator {
    /** RFC 6298 §2: the clock granularity G, 1 ms (timestamps tick in milliseconds). */
    private static final long GRANULARITY_NS = 1_000_000L;

    private final long rtoMinNs;
    private final long rtoMaxNs;
    private long srttNs;
    private long rttvarNs;
    private long rtoNs;
    /** Whether any sample arrived since the estimator was (re)started. */
    private boolean measured;
    /** Whether a segment is being timed (RFC 6298 §3, connections without timestamps). */
    private boolean timing;
    /** The first sequence number after the timed segment: an ACK past it ends the timing. */
    private int timedSeq;
    /** When the timed segment (or the SYN) was sent. */
    private long timedStartNs;

    RttEstimator(long rtoInitialNs, long rtoMinNs, long rtoMaxNs) {
        this.rtoNs = rtoInitialNs;
        this.rtoMinNs = rtoMinNs;
        this.rtoMaxNs = rtoMaxNs;
    }

    long srttNs() {
        return srttNs;
    }

    long rttvarNs() {
        return rttvarNs;
    }

    long rtoNs() {
        return rtoNs;
    }

    /** RFC 6298 §2.2–2.3: one RTT measurement updates SRTT, RTTVAR and the RTO. */
    void sample(long rttNs) {
        long r = Math.max(rttNs, 1);
        if (!measured) {
            srttNs = r;
            rttvarNs = r / 2;
            measured = true;
        } else {
            long err = Math.abs(srttNs - r);
            rttvarNs = rttvarNs - (rttvarNs >> 2) + (err >> 2);
            srttNs = srttNs - (srttNs >> 3) + (r >> 3);
        }
        rtoNs = clamp(srttNs + Math.max(GRANULARITY_NS, 4 * rttvarNs));
    }

    /** RFC 6298 §5.5: the RTO doubles per expiry, within the maximum (and the minimum). */
    long backedOffNs(int backoffCount) {
        long r = rtoNs;
        for (int i = 0; i < backoffCount && r < rtoMaxNs; i++) {
            r *= 2;
        }
        return clamp(r);
    }

    /**
     * When retransmissions give up, as Linux measures it (tcp_retries2, tcp_syn_retries): the
     * time {@code retries} timeouts take doubling from {@code rtoBaseNs} up to {@code rtoMaxNs}
     * and then at it, so the limit is in time, not in a count that a small RTO would exhaust in
     * seconds. 15 from 200 ms within 120 s: 924.6 s; 6 from 1 s: 127 s.
     */
    static long giveUpNs(int retries, long rtoBaseNs, long rtoMaxNs) {
        long totalNs = 0;
        long rtoNs = rtoBaseNs;
        for (int i = 0; i <= retries; i++) {
            totalNs += rtoNs;
            rtoNs = Math.min(2 * rtoNs, rtoMaxNs);
        }
        return totalNs;
    }

    /** RFC 6298 §2.4–2.5: the RTO stays within [minimum, maximum]. */
    private long clamp(long r) {
        return Math.max(rtoMinNs, Math.min(r, rtoMaxNs));
    }

    // ---------------------------------------------------------------- the SYN

    /** A SYN (or SYN-ACK) left now: the handshake's RTT is timed from here. */
    void synSent(long nowNs) {
        timedStartNs = nowNs;
    }

    /** The SYN was retransmitted: the next handshake sample is the first again (RFC 6298 §5.7). */
    void synRetransmitted() {
        measured = false;
    }

    /**
     * The handshake completed: a sample from the SYN unless timestamps already gave one or the
     * SYN was retransmitted ({@code backoffCount > 0}), which Karn's rule excludes.
     */
    void handshakeDone(long nowNs, int backoffCount) {
        if (!measured && backoffCount == 0) {
            sample(nowNs - timedStartNs);
        }
    }

    // ---------------------------------------------------------------- one timed segment

    boolean timing() {
        return timing;
    }

    /** RFC 6298 §3: times new data starting at {@code seq}, if nothing is timed yet. */
    void startTiming(int seq, long nowNs) {
        if (!timing) {
            timing = true;
            timedSeq = seq;
            timedStartNs = nowNs;
        }
    }

    /** An ACK of {@code ack}: a sample when it covers the timed segment. */
    void acked(int ack, long nowNs) {
        if (timing && Seq.gt(ack, timedSeq)) {
            timing = false;
            sample(nowNs - timedStartNs);
        }
    }

    /** Karn's rule (RFC 6298 §3): [from, to) was resent, so an ACK of it cannot be timed. */
    void retransmitted(int from, int to) {
        if (timing && Seq.inRange(timedSeq, from, to)) {
            timing = false;
        }
    }

    /** Karn's rule for a whole retransmission episode: nothing in flight is timed any more. */
    void stopTiming() {
        timing = false;
    }
}
