package io.slipstream.tcp;

/**
 * Undoing a congestion response that proved needless (RFC 3708, RFC 5682, as Linux's undo):
 * the window and ssthresh from before a loss episode (a fast recovery or a timeout), and the
 * bytes retransmitted in it. When D-SACKs (RFC 2883) show every one of those retransmissions
 * arrived twice, or F-RTO shows a timeout was spurious, the window goes back.
 *
 * <p>Runs under the stack lock, as its connection.
 */
final class CongestionUndo {
    private boolean armed;
    private long priorCwndBytes;
    private long priorSsthreshBytes;
    /** Bytes retransmitted in the episode and not yet reported duplicate by a D-SACK. */
    private long retransmittedBytes;

    /** A loss episode begins with this window and ssthresh (before they are reduced). */
    void begin(long cwndBytes, long ssthreshBytes) {
        armed = true;
        priorCwndBytes = cwndBytes;
        priorSsthreshBytes = ssthreshBytes;
        retransmittedBytes = 0;
    }

    boolean armed() {
        return armed;
    }

    long priorCwndBytes() {
        return priorCwndBytes;
    }

    long priorSsthreshBytes() {
        return priorSsthreshBytes;
    }

    /** {@code bytes} were retransmitted. */
    void retransmitted(long bytes) {
        if (armed) {
            retransmittedBytes += bytes;
        }
    }

    /**
     * A D-SACK reported {@code bytes} received twice; true when that accounts for every byte
     * retransmitted in the episode (RFC 3708 §2: all retransmissions were spurious), which
     * the caller then undoes ({@link #undone}).
     */
    boolean duplicateReported(long bytes) {
        if (!armed) {
            return false;
        }
        retransmittedBytes -= bytes;
        return retransmittedBytes <= 0;
    }

    /** The response was undone, or can no longer be: nothing more to undo. */
    void undone() {
        armed = false;
    }
}
