package io.slipstream.tcp;

/**
 * RACK, time-based loss detection (RFC 8985 §6), on a SACK connection's send side: one record
 * per segment sent ([start, end) in sequence space, when it last left, and whether it was
 * SACKed, is deemed lost, or was retransmitted), kept in sequence order in a ring of primitive
 * arrays. A segment is lost once a segment sent after it was delivered and more than
 * RACK.rtt + RACK.reo_wnd passed since it left; a retransmission is a segment that leaves
 * again, so a lost retransmission is detected the same way, without waiting for an RTO.
 *
 * <p>Allocates nothing after construction: when the ring is full, the newest record grows to
 * take the next segment (coarser, never wrong in sequence space). Runs under the stack lock, as
 * its connection.
 */
final class Rack {
    private static final byte SACKED = 1;
    /** Deemed lost and not sent again since (RFC 8985 §6.2 step 5). */
    private static final byte LOST = 2;
    private static final byte RETRANSMITTED = 4;

    private final int[] startSeq;
    private final int[] endSeq;
    private final long[] xmitNs;
    /**
     * The order of transmissions: RFC 8985's RACK_sent_after breaks ties of equal send times by
     * sequence number, which misorders a retransmission sent right after higher new data (a
     * coarse or virtual clock); a counter of transmissions orders them exactly.
     */
    private final long[] xmitOrder;
    private long transmissions;
    private final byte[] flags;
    private int head;
    private int count;
    /** Bytes of records deemed lost and not yet sent again: out of the pipe (RFC 6675 §4 SetPipe). */
    private long lostBytes;
    private long sackedBytes;
    private int sackedSegments;
    /** Records retransmitted and not yet delivered: without them and SACKs nothing can be lost. */
    private int retransmittedOutstanding;

    // RFC 8985 §6.1: the most recently sent segment known delivered, and its RTT
    private boolean delivered;
    private long rackXmitNs;
    private long rackOrder;
    private long rackRttNs;
    /** RACK.min_RTT: the least RTT measured from deliveries (the connection's lifetime, not windowed). */
    private long minRttNs = Long.MAX_VALUE;
    /** RACK.fack: the highest end of a delivered segment. */
    private int fack;
    private boolean reorderingSeen;
    /** RFC 8985 §6.2 step 4: reo_wnd in quarters of min_RTT, raised by D-SACKs, decayed by recoveries. */
    private int reoWndMult = 1;
    private int reoWndPersist;
    /** F-RTO (RFC 5682 §3.1): segments ending at or below this, sent once and delivered, show a spurious timeout. */
    private int originalsEnd;
    private boolean watchingOriginals;
    private boolean originalDelivered;

    Rack(int capacity) {
        startSeq = new int[capacity];
        endSeq = new int[capacity];
        xmitNs = new long[capacity];
        xmitOrder = new long[capacity];
        flags = new byte[capacity];
    }

    /** A new connection whose first byte is {@code sndUna}: no records, no measurements. */
    void reset(int sndUna) {
        fack = sndUna;
        head = 0;
        count = 0;
        lostBytes = 0;
        sackedBytes = 0;
        sackedSegments = 0;
        retransmittedOutstanding = 0;
        delivered = false;
        minRttNs = Long.MAX_VALUE;
        reorderingSeen = false;
        reoWndMult = 1;
        reoWndPersist = 0;
        watchingOriginals = false;
        originalDelivered = false;
    }

    int count() {
        return count;
    }

    long lostBytes() {
        return lostBytes;
    }

    long sackedBytes() {
        return sackedBytes;
    }

    boolean reorderingSeen() {
        return reorderingSeen;
    }

    long minRttNs() {
        return minRttNs;
    }

    long rttNs() {
        return rackRttNs;
    }

    private int slot(int i) {
        int p = head + i;
        return p >= startSeq.length ? p - startSeq.length : p;
    }

    int start(int i) {
        return startSeq[slot(i)];
    }

    int end(int i) {
        return endSeq[slot(i)];
    }

    long sentAtNs(int i) {
        return xmitNs[slot(i)];
    }

    boolean lost(int i) {
        return (flags[slot(i)] & LOST) != 0;
    }

    boolean sacked(int i) {
        return (flags[slot(i)] & SACKED) != 0;
    }

    boolean retransmitted(int i) {
        return (flags[slot(i)] & RETRANSMITTED) != 0;
    }

    /** The first record (in sequence order) deemed lost and not sent again, or -1. */
    int firstLost() {
        if (lostBytes == 0) {
            return -1;
        }
        for (int i = 0; i < count; i++) {
            if ((flags[slot(i)] & LOST) != 0) {
                return i;
            }
        }
        return -1;
    }

    // ---------------------------------------------------------------- sending

    /** New data [seq, end) (a FIN counts one) left at {@code nowNs}. */
    void sentNew(int seq, int end, long nowNs) {
        if (count == startSeq.length) {
            // full: the newest record takes the segment, as one sent now and in flight (its
            // marks go: SACKed bytes may be resent, lost ones wait for RACK or the RTO)
            int last = slot(count - 1);
            remove(last);
            if ((flags[last] & LOST) != 0) {
                lostBytes -= len(last);
            }
            flags[last] = 0;
            endSeq[last] = end;
            xmitNs[last] = nowNs;
            xmitOrder[last] = ++transmissions;
            return;
        }
        int p = slot(count++);
        startSeq[p] = seq;
        endSeq[p] = end;
        xmitNs[p] = nowNs;
        xmitOrder[p] = ++transmissions;
        flags[p] = 0;
    }

    /**
     * [seq, end) left again at {@code nowNs} (a lost segment or a loss probe): the records in it
     * are in flight again, sent now; a record only partly resent is split at {@code end}.
     */
    void retransmitted(int seq, int end, long nowNs) {
        int i = indexOf(seq);
        if (i < 0) {
            return;
        }
        for (; i < count && Seq.lt(start(i), end); i++) {
            int p = slot(i);
            if (Seq.lt(end, endSeq[p]) && count < startSeq.length) {
                split(i, end);
                p = slot(i);
            }
            if ((flags[p] & SACKED) != 0) {
                continue;
            }
            if ((flags[p] & LOST) != 0) {
                lostBytes -= len(p);
            }
            if ((flags[p] & RETRANSMITTED) == 0) {
                retransmittedOutstanding++;
            }
            flags[p] = RETRANSMITTED;
            xmitNs[p] = nowNs;
            xmitOrder[p] = ++transmissions;
        }
    }

    /** The record holding {@code seq}, or -1 (binary search: records are in sequence order). */
    private int indexOf(int seq) {
        int lo = 0;
        int hi = count - 1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            int p = slot(mid);
            if (Seq.lt(seq, startSeq[p])) {
                hi = mid - 1;
            } else if (Seq.ge(seq, endSeq[p])) {
                lo = mid + 1;
            } else {
                return mid;
            }
        }
        return -1;
    }

    /** Splits record {@code i} at {@code seq}: [start, seq) stays at i, [seq, end) follows it. */
    private void split(int i, int seq) {
        for (int j = count; j > i + 1; j--) {
            int to = slot(j);
            int from = slot(j - 1);
            startSeq[to] = startSeq[from];
            endSeq[to] = endSeq[from];
            xmitNs[to] = xmitNs[from];
            xmitOrder[to] = xmitOrder[from];
            flags[to] = flags[from];
        }
        count++;
        int p = slot(i);
        int q = slot(i + 1);
        startSeq[q] = seq;
        endSeq[q] = endSeq[p];
        xmitNs[q] = xmitNs[p];
        xmitOrder[q] = xmitOrder[p];
        flags[q] = flags[p];
        endSeq[p] = seq;
        if ((flags[p] & RETRANSMITTED) != 0) {
            retransmittedOutstanding++;
        }
        if ((flags[p] & SACKED) != 0) {
            sackedSegments++;
        }
    }

    private long len(int p) {
        return (endSeq[p] - startSeq[p]) & 0xFFFF_FFFFL;
    }

    // ---------------------------------------------------------------- deliveries

    /** SND.UNA moved to {@code ack}: the records below it were delivered and leave the ring. */
    void cumulativeAck(int ack, long nowNs) {
        while (count > 0 && Seq.le(endSeq[head], ack)) {
            deliver(head, nowNs);
            remove(head);
            head = head + 1 == startSeq.length ? 0 : head + 1;
            count--;
        }
        if (count > 0 && Seq.gt(ack, startSeq[head])) {
            // a partly acknowledged record: what remains is still outstanding
            if ((flags[head] & LOST) != 0) {
                lostBytes -= (ack - startSeq[head]) & 0xFFFF_FFFFL;
            } else if ((flags[head] & SACKED) != 0) {
                sackedBytes -= (ack - startSeq[head]) & 0xFFFF_FFFFL;
            }
            startSeq[head] = ack;
        }
    }

    /** A SACK block [left, right): the records wholly inside it were delivered (RFC 2018). */
    void sacked(int left, int right, long nowNs) {
        int i = indexOf(left);
        if (i < 0) {
            // the block starts inside no record (one merged over): the first record after it
            i = 0;
            while (i < count && Seq.lt(start(i), left)) {
                i++;
            }
        }
        for (; i < count && Seq.le(end(i), right); i++) {
            int p = slot(i);
            if (Seq.lt(startSeq[p], left) || (flags[p] & SACKED) != 0) {
                continue;
            }
            deliver(p, nowNs);
            flags[p] = (byte) ((flags[p] & RETRANSMITTED) | SACKED);
            sackedBytes += len(p);
            sackedSegments++;
        }
    }

    /** A record leaves the ring: its counts go with it. */
    private void remove(int p) {
        if ((flags[p] & SACKED) != 0) {
            sackedBytes -= len(p);
            sackedSegments--;
        }
        if ((flags[p] & RETRANSMITTED) != 0) {
            retransmittedOutstanding--;
        }
    }

    /**
     * RFC 8985 §6.2 steps 2–3 for a segment newly delivered: RACK.xmit_ts (and order) and rtt
     * follow the most recently sent segment delivered; RACK.fack the highest; a never
     * retransmitted segment delivered below RACK.fack shows reordering.
     */
    private void deliver(int p, long nowNs) {
        byte f = flags[p];
        if ((f & SACKED) != 0) {
            return;
        }
        if ((f & LOST) != 0) {
            lostBytes -= len(p);
            flags[p] = (byte) (f & ~LOST);
        }
        long rttNs = nowNs - xmitNs[p];
        // step 2: an ACK sooner than min_RTT after a retransmission is the original's (ambiguous)
        boolean ambiguous = (f & RETRANSMITTED) != 0 && rttNs < minRttNs;
        if (!ambiguous) {
            minRttNs = Math.min(minRttNs, rttNs);
            if (!delivered || xmitOrder[p] > rackOrder) {
                delivered = true;
                rackXmitNs = xmitNs[p];
                rackOrder = xmitOrder[p];
                rackRttNs = rttNs;
            }
        }
        if (watchingOriginals && (f & RETRANSMITTED) == 0 && Seq.le(endSeq[p], originalsEnd)) {
            originalDelivered = true;
        }
        if ((f & RETRANSMITTED) == 0 && delivered && Seq.lt(endSeq[p], fack)) {
            reorderingSeen = true;
        }
        if (Seq.gt(endSeq[p], fack)) {
            fack = endSeq[p];
        }
    }

    // ---------------------------------------------------------------- loss detection

    /**
     * RFC 8985 §6.2 step 4, RACK.reo_wnd: none while no reordering was seen and the sender is
     * recovering or DupThresh segments are SACKed (loss is then plain); otherwise a quarter of
     * min_RTT per {@link #reoWndMult}, at most SRTT.
     */
    long reoWndNs(boolean recovering, long srttNs) {
        if (!reorderingSeen && (recovering || sackedSegments >= SackScoreboard.DUP_THRESH)) {
            return 0;
        }
        if (minRttNs == Long.MAX_VALUE) {
            return 0;
        }
        return Math.min(reoWndMult * (minRttNs / 4), srttNs);
    }

    /**
     * RFC 8985 §6.2 step 5: marks lost every outstanding record sent before RACK's segment and
     * longer ago than RACK.rtt + {@code reoWndNs}. Returns how long until the next record would
     * be (the reordering timer, §6.3), or 0 when no timer is needed.
     */
    long detectLoss(long nowNs, long reoWndNs) {
        if (!delivered || (sackedSegments == 0 && retransmittedOutstanding == 0)) {
            return 0; // every outstanding segment left after every delivered one
        }
        long timeoutNs = 0;
        for (int i = 0; i < count; i++) {
            int p = slot(i);
            // RFC 8985 §6.2 RACK_sent_after(RACK, segment), by transmission order
            if ((flags[p] & (SACKED | LOST)) != 0 || rackOrder <= xmitOrder[p]) {
                continue;
            }
            long remainingNs = xmitNs[p] + rackRttNs + reoWndNs - nowNs;
            if (remainingNs <= 0) {
                markLost(p);
            } else {
                timeoutNs = Math.max(timeoutNs, remainingNs);
            }
        }
        return timeoutNs;
    }

    private void markLost(int p) {
        if ((flags[p] & (SACKED | LOST)) == 0) {
            flags[p] |= LOST;
            lostBytes += len(p);
        }
    }

    /** The first outstanding record is deemed lost (DupThresh duplicate ACKs, RFC 6675 IsLost). */
    void markFirstLost() {
        for (int i = 0; i < count; i++) {
            int p = slot(i);
            if ((flags[p] & SACKED) == 0) {
                markLost(p);
                return;
            }
        }
    }

    /**
     * RFC 8985 §6.3 on an RTO: the first outstanding segment is lost (sent an RTO ago), and every
     * other not SACKed sent longer than RACK.rtt + {@code reoWndNs} ago. With {@code all} (the
     * RTO expired again, or the path MTU shrank) every record not SACKed, whenever sent.
     */
    void markLostOnTimeout(long nowNs, long reoWndNs, boolean all) {
        markFirstLost();
        for (int i = 0; i < count; i++) {
            int p = slot(i);
            if (all || xmitNs[p] + rackRttNs + reoWndNs - nowNs <= 0) {
                markLost(p);
            }
        }
    }

    /**
     * RFC 5682 §3.1 (F-RTO with SACK): after a timeout, watch for a delivery of a segment sent
     * before {@code sndMax} and never retransmitted: not everything was lost, so the timeout
     * was spurious ({@link #takeOriginalDelivered}).
     */
    void watchOriginals(int sndMax) {
        watchingOriginals = true;
        originalsEnd = sndMax;
        originalDelivered = false;
    }

    boolean watchingOriginals() {
        return watchingOriginals;
    }

    int originalsEnd() {
        return originalsEnd;
    }

    void stopWatchingOriginals() {
        watchingOriginals = false;
        originalDelivered = false;
    }

    /** Whether a watched original was delivered since the last call. */
    boolean takeOriginalDelivered() {
        boolean d = originalDelivered;
        originalDelivered = false;
        return d;
    }

    /** Nothing is deemed lost any more (a spurious timeout undone): all of it is in flight. */
    void clearLost() {
        for (int i = 0; i < count; i++) {
            flags[slot(i)] &= ~LOST;
        }
        lostBytes = 0;
    }

    /** The SACK information is dropped (the receiver may have reneged): nothing counts as SACKed. */
    void forgetSacks() {
        for (int i = 0; i < count; i++) {
            int p = slot(i);
            flags[p] &= ~SACKED;
        }
        sackedBytes = 0;
        sackedSegments = 0;
    }

    // ---------------------------------------------------------------- reo_wnd adaptation

    /** RFC 8985 §6.2 step 4: a D-SACK shows a spurious retransmission; reo_wnd widens for 16 recoveries. */
    void dsackReceived() {
        reoWndMult = Math.min(reoWndMult + 1, 64);
        reoWndPersist = 16;
        reorderingSeen = true;
    }

    /** A loss recovery ended: after 16 without D-SACKs reo_wnd returns to its base. */
    void recoveryEnded() {
        if (reoWndPersist > 0 && --reoWndPersist == 0) {
            reoWndMult = 1;
        }
    }
}
