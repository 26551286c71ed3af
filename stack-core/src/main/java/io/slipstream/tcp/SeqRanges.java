package io.slipstream.tcp;

/**
 * A bounded, sorted set of disjoint sequence ranges [left, right): out-of-order data held by
 * the receiver (which also yields its SACK blocks, RFC 2018 §4) and the sender's SACK
 * scoreboard (RFC 6675). Primitive arrays, nothing allocated after construction. When full, a
 * new range that cannot merge is refused (the data is dropped and will be retransmitted).
 */
final class SeqRanges {
    private final int[] left;
    private final int[] right;
    private int count;
    /** The range most recently added or extended, first in SACK blocks (RFC 2018 §4). */
    private int recentLeft;
    private int recentRight;
    private boolean hasRecent;

    SeqRanges(int maxRanges) {
        left = new int[maxRanges];
        right = new int[maxRanges];
    }

    int count() {
        return count;
    }

    int left(int i) {
        return left[i];
    }

    int right(int i) {
        return right[i];
    }

    void clear() {
        count = 0;
        hasRecent = false;
    }

    /** Adds [l, r), merging with overlapping or adjacent ranges. False if there was no room. */
    boolean add(int l, int r) {
        if (!Seq.lt(l, r)) {
            return true;
        }
        int i = 0;
        while (i < count && Seq.lt(right[i], l)) {
            i++;
        }
        // ranges i.. either touch [l, r) or lie after it
        int j = i;
        while (j < count && Seq.le(left[j], r)) {
            l = Seq.min(l, left[j]);
            r = Seq.max(r, right[j]);
            j++;
        }
        int removed = j - i;
        if (removed == 0) {
            if (count == left.length) {
                return false;
            }
            System.arraycopy(left, i, left, i + 1, count - i);
            System.arraycopy(right, i, right, i + 1, count - i);
            count++;
        } else if (removed > 1) {
            System.arraycopy(left, j, left, i + 1, count - j);
            System.arraycopy(right, j, right, i + 1, count - j);
            count -= removed - 1;
        }
        left[i] = l;
        right[i] = r;
        recentLeft = l;
        recentRight = r;
        hasRecent = true;
        return true;
    }

    /** Drops everything below {@code seq} (acknowledged or delivered). */
    void removeBelow(int seq) {
        int i = 0;
        while (i < count && Seq.le(right[i], seq)) {
            i++;
        }
        if (i > 0) {
            System.arraycopy(left, i, left, 0, count - i);
            System.arraycopy(right, i, right, 0, count - i);
            count -= i;
        }
        if (count > 0 && Seq.lt(left[0], seq)) {
            left[0] = seq;
        }
        if (hasRecent && Seq.le(recentRight, seq)) {
            hasRecent = false;
        }
    }

    /** If a range starts exactly at {@code seq}, removes it and returns its right edge; else seq. */
    int takeFrom(int seq) {
        if (count > 0 && left[0] == seq) {
            int r = right[0];
            removeBelow(r);
            return r;
        }
        return seq;
    }

    /** Whether [l, r) lies entirely inside one range. */
    boolean covers(int l, int r) {
        for (int i = 0; i < count; i++) {
            if (Seq.le(left[i], l) && Seq.le(r, right[i])) {
                return true;
            }
        }
        return false;
    }

    /** Bytes of the set inside [l, r). */
    long bytesIn(int l, int r) {
        long n = 0;
        for (int i = 0; i < count; i++) {
            int a = Seq.max(left[i], l);
            int b = Seq.min(right[i], r);
            if (Seq.lt(a, b)) {
                n += b - a;
            }
        }
        return n;
    }

    /** The end of the range containing {@code seq}, or seq if none does. */
    int skip(int seq) {
        for (int i = 0; i < count; i++) {
            if (Seq.le(left[i], seq) && Seq.lt(seq, right[i])) {
                return right[i];
            }
        }
        return seq;
    }

    /** The start of the first range at or after {@code seq}, or {@code dflt}. */
    int nextStart(int seq, int dflt) {
        for (int i = 0; i < count; i++) {
            if (Seq.gt(left[i], seq)) {
                return left[i];
            }
        }
        return dflt;
    }

    /**
     * Fills SACK blocks, the most recently changed range first, then the others from the
     * highest down (RFC 2018 §4), up to {@code max}.
     */
    int sackBlocks(int[] outLeft, int[] outRight, int max) {
        int n = 0;
        int recentIndex = -1;
        if (hasRecent && max > 0) {
            for (int i = 0; i < count; i++) {
                if (Seq.le(left[i], recentLeft) && Seq.le(recentRight, right[i])) {
                    recentIndex = i;
                    outLeft[n] = left[i];
                    outRight[n] = right[i];
                    n++;
                    break;
                }
            }
        }
        for (int i = count - 1; i >= 0 && n < max; i--) {
            if (i != recentIndex) {
                outLeft[n] = left[i];
                outRight[n] = right[i];
                n++;
            }
        }
        return n;
    }
}
