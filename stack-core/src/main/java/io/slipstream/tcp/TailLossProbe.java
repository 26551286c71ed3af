package io.slipstream.tcp;

/**
 * Tail loss probes (RFC 8985 §7): when the last segments of a flight are lost, no ACK comes
 * back to let RACK see it, and only the RTO would. A probe timeout (PTO) of about two RTTs
 * sends one segment (new data, or the last one again) to draw an ACK whose SACK information
 * starts recovery. This holds the PTO rule and the one probe episode (TLP.end_seq,
 * TLP.is_retrans); the connection sends.
 *
 * <p>Runs under the stack lock, as its connection.
 */
final class TailLossProbe {
    /** RFC 8985 §7.2 WCDelAckT: the worst-case delayed-ACK time a lone segment may wait at the peer. */
    static final long WORST_CASE_DELAYED_ACK_NS = 200_000_000L;
    /**
     * Added to 2·SRTT when the ACK is not expected to be delayed, as Linux adds two jiffies
     * (TCP_TIMEOUT_MIN in tcp_schedule_loss_probe): on a sub-millisecond path 2·SRTT alone is
     * shorter than the jitter of a receiver's scheduling, and probes would fire where Linux's do not.
     */
    static final long PTO_MARGIN_NS = 2_000_000L;
    /** RFC 8985 §7.2: the PTO before any RTT was measured. */
    static final long INITIAL_PTO_NS = 1_000_000_000L;

    private boolean outstanding;
    private int endSeq;
    private boolean retransmission;

    /**
     * RFC 8985 §7.2: PTO = 2·SRTT, plus WCDelAckT when the peer may delay its ACK of the flight
     * (the RFC says one segment; a receiver may hold its ACK until a second full-sized segment,
     * RFC 5681 §4.2, so less than two full segments counts) and {@link #PTO_MARGIN_NS} otherwise,
     * never later than the RTO would fire ({@code rtoRemainingNs}).
     */
    static long ptoNs(long srttNs, boolean ackMayBeDelayed, long rtoRemainingNs) {
        long pto = srttNs > 0 ? 2 * srttNs : INITIAL_PTO_NS;
        if (srttNs > 0) {
            pto += ackMayBeDelayed ? WORST_CASE_DELAYED_ACK_NS : PTO_MARGIN_NS;
        }
        return Math.max(1, Math.min(pto, rtoRemainingNs));
    }

    /** Whether a probe was sent and its episode is still open (RFC 8985 §7.2: one at a time). */
    boolean outstanding() {
        return outstanding;
    }

    boolean retransmission() {
        return retransmission;
    }

    int endSeq() {
        return endSeq;
    }

    /** A probe left; SND.MAX is now {@code sndMax} (TLP.end_seq, RFC 8985 §7.3). */
    void sent(int sndMax, boolean wasRetransmission) {
        outstanding = true;
        endSeq = sndMax;
        retransmission = wasRetransmission;
    }

    /**
     * RFC 8985 §7.4: an ACK of {@code ack} arrived. Returns true when it ends the episode with the
     * probe having repaired a loss (it was a retransmission, everything up to TLP.end_seq is
     * acknowledged, and no D-SACK said the original had arrived): the sender then reduces its
     * congestion window as for any loss. A probe of new data needs no such check (RACK sees its
     * losses), nor does one a D-SACK showed redundant.
     */
    boolean acked(int ack, boolean dsackForProbe) {
        if (!outstanding) {
            return false;
        }
        if (!retransmission || dsackForProbe) {
            outstanding = false;
            return false;
        }
        if (Seq.ge(ack, endSeq)) {
            outstanding = false;
            return true;
        }
        return false;
    }

    /** The episode ends without a verdict (a timeout or recovery took over). */
    void cancel() {
        outstanding = false;
    }
}
