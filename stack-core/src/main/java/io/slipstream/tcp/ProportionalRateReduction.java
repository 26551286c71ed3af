package io.slipstream.tcp;

/**
 * Proportional rate reduction (RFC 6937) for the sending rate during a SACK recovery: the
 * window falls to ssthresh gradually, in proportion to the data delivered, instead of stopping
 * all sending for half a round trip (RFC 6675) or bursting after it; below ssthresh (further
 * losses) it grows back in slow start, at most one segment beyond what was delivered
 * (PRR-SSRB). The connection sets its congestion window to pipe + {@link #onAck}'s answer.
 *
 * <p>Runs under the stack lock, as its connection.
 */
final class ProportionalRateReduction {
    /** RFC 6937 RecoverFS: the flight size when recovery began. */
    private long recoverFsBytes;
    private long deliveredBytes;
    private long sentBytes;

    /** Recovery begins with {@code flightBytes} (SND.MAX − SND.UNA) outstanding. */
    void start(long flightBytes) {
        recoverFsBytes = Math.max(flightBytes, 1);
        deliveredBytes = 0;
        sentBytes = 0;
    }

    /** {@code bytes} left during recovery (prr_out). */
    void sent(long bytes) {
        sentBytes += bytes;
    }

    /**
     * RFC 6937 §3.1, on each ACK in recovery: {@code deliveredNowBytes} newly delivered
     * (cumulatively or by SACK); returns sndcnt, the bytes that may be sent now.
     */
    long onAck(long deliveredNowBytes, long pipeBytes, long ssthreshBytes, int mss) {
        deliveredBytes += deliveredNowBytes;
        long sndcnt;
        if (pipeBytes > ssthreshBytes) {
            // proportional: CEIL(prr_delivered * ssthresh / RecoverFS) - prr_out
            sndcnt = ceilDiv(deliveredBytes * ssthreshBytes, recoverFsBytes) - sentBytes;
        } else {
            // PRR-SSRB: slow start back towards ssthresh
            long limit = Math.max(deliveredBytes - sentBytes, deliveredNowBytes) + mss;
            sndcnt = Math.min(ssthreshBytes - pipeBytes, limit);
        }
        return Math.max(sndcnt, 0);
    }

    private static long ceilDiv(long a, long b) {
        return (a + b - 1) / b;
    }
}
