package io.slipstream.tcp;

import io.slipstream.wire.TcpOptions;

/**
 * The sender's SACK scoreboard (RFC 6675 §3, §4): which outstanding bytes the peer reported
 * holding (RFC 2018 blocks) and the rule read from them, IsLost; which segments are lost and
 * the pipe are {@link Rack}'s (RFC 8985). Bounded like {@link SeqRanges}; allocates nothing after construction.
 *
 * <p>Runs under the stack lock, as its connection.
 */
final class SackScoreboard {
    /** RFC 6675 §2: DupThresh, the duplicate ACKs (or SACKed segments) that signal a loss. */
    static final int DUP_THRESH = 3;

    private final SeqRanges sacked;

    SackScoreboard(int maxRanges) {
        this.sacked = new SeqRanges(maxRanges);
    }

    /** Forgets every SACK block (RFC 6675 §5.1 after a timeout). */
    void reset(int sndUna) {
        sacked.clear();
    }

    /** Records the SACK blocks of an ACK; RFC 2018: blocks outside [ack, SND.MAX) are ignored. */
    void update(TcpOptions o, int ack, int sndMax) {
        for (int i = 0; i < o.sackBlockCount; i++) {
            int l = o.sackLeft[i];
            int r = o.sackRight[i];
            if (Seq.lt(l, r) && Seq.ge(l, ack) && Seq.le(r, sndMax)) {
                sacked.add(l, r);
            }
        }
    }

    /** SND.UNA moved to {@code ack}: what lies below it is no longer scored. */
    void cumulativeAck(int ack) {
        sacked.removeBelow(ack);
    }

    /**
     * RFC 6675 §4 IsLost(SND.UNA): more than (DupThresh − 1)·SMSS bytes above it were SACKed,
     * so loss is detected even when duplicate ACKs were lost or carried window changes.
     */
    boolean isLost(int sndUna, int sndMax, int mss) {
        return sacked.bytesIn(sndUna, sndMax) > (DUP_THRESH - 1L) * mss;
    }

    /** The end of the SACKed block holding {@code seq}, or {@code seq} when it is not SACKed. */
    int skipSacked(int seq) {
        return sacked.skip(seq);
    }

    /** Where the unSACKed run starting at {@code seq} ends, at most {@code limit}. */
    int holeEnd(int seq, int limit) {
        return sacked.nextStart(seq, limit);
    }
}
