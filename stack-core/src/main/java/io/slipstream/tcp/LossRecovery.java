package io.slipstream.tcp;

/**
 * Fast retransmit and fast recovery state (RFC 5681 §3.2, RFC 6582, RFC 6675 §5): the duplicate
 * ACK count, the recovery point, and RFC 3042 limited transmit. It decides; the connection
 * sends and adjusts the congestion window.
 *
 * <p>Runs under the stack lock, as its connection.
 */
final class LossRecovery {
    /** What a duplicate ACK asks of the sender ({@link #duplicateAck}). */
    enum DupAckAction { NONE, INFLATE, FAST_RETRANSMIT }

    private boolean inRecovery;
    /** RFC 6582 "recover": SND.MAX when recovery began; an ACK at or past it ends recovery. */
    private int recover;
    private int dupAcks;
    /** RFC 3042: bytes of new data the first two duplicate ACKs let past the congestion window. */
    private long limitedTransmitBytes;
    /**
     * Whether this recovery has sent its tail loss probe: one at most. Probes re-armed on every
     * ACK of a recovery each pushed the RTO back, and a probe answered only by a D-SACK (its
     * segment had arrived; the hole below it had not) then came again at every PTO, forever.
     */
    private boolean probed;

    /** A new connection starting at {@code iss}: no recovery episode before it. */
    void start(int iss) {
        recover = iss;
    }

    boolean inRecovery() {
        return inRecovery;
    }

    int dupAcks() {
        return dupAcks;
    }

    long limitedTransmitBytes() {
        return limitedTransmitBytes;
    }

    /**
     * One more duplicate ACK: in recovery, inflate the window (RFC 5681 §3.2 step 4, without
     * SACK); before DupThresh, allow one new segment each (RFC 3042); at DupThresh, fast
     * retransmit unless a recovery covering SND.UNA already ran (RFC 6582 §3.2 step 2).
     */
    DupAckAction duplicateAck(int sndUna, int mss) {
        dupAcks++;
        if (inRecovery) {
            return DupAckAction.INFLATE;
        }
        if (dupAcks < SackScoreboard.DUP_THRESH) {
            limitedTransmitBytes = (long) dupAcks * mss;
            return DupAckAction.NONE;
        }
        return dupAcks == SackScoreboard.DUP_THRESH && mayEnter(sndUna)
                ? DupAckAction.FAST_RETRANSMIT : DupAckAction.NONE;
    }

    /** Whether a loss of SND.UNA may start recovery: not in one, and past the last one's point. */
    boolean mayEnter(int sndUna) {
        return !inRecovery && Seq.ge(sndUna, recover);
    }

    /** Recovery begins; it ends when everything sent so far ({@code sndMax}) is acknowledged. */
    void enter(int sndMax) {
        inRecovery = true;
        recover = sndMax;
        limitedTransmitBytes = 0;
        probed = false;
    }

    /** A tail loss probe left during this recovery. */
    void probeSent() {
        probed = inRecovery;
    }

    /** Whether this recovery may still be probed (RFC 8985 §7.2 probes none; Slipstream one). */
    boolean mayProbe() {
        return !inRecovery || !probed;
    }

    /**
     * New data acknowledged up to {@code ack}: the duplicate count restarts; true when this ACK
     * ends recovery (RFC 6582 §3.2 step 6: a full ACK).
     */
    boolean newAck(int ack) {
        dupAcks = 0;
        limitedTransmitBytes = 0;
        if (inRecovery && Seq.ge(ack, recover)) {
            inRecovery = false;
            return true;
        }
        return false;
    }

    /** RFC 5681 §3.1, RFC 6582 §4: a timeout ends recovery; no allowance, recover = SND.MAX. */
    void timeout(int sndMax) {
        inRecovery = false;
        dupAcks = 0;
        limitedTransmitBytes = 0;
        recover = sndMax;
    }

    /** A timeout proved spurious (RFC 5682): a loss found later may start a fast recovery again. */
    void timeoutUndone(int sndUna) {
        recover = sndUna;
    }

    /** {@code len} bytes of new data left: they use up the limited-transmit allowance first. */
    void sent(long len) {
        if (limitedTransmitBytes > 0) {
            limitedTransmitBytes = Math.max(0, limitedTransmitBytes - len);
        }
    }
}
