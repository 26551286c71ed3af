package io.slipstream.tcp;

/**
 * The receive window of one connection: what the window field offers (RFC 9293 §3.8.6, with
 * receiver silly-window avoidance, §3.8.6.2.2, and a right edge that never retreats, RFC 7323
 * §2.4), and receive-window auto-tuning (as Linux's tcp_rcv_space_adjust, "dynamic
 * right-sizing"): the window covers at most {@link #limitBytes} of the ring and the limit grows
 * while the application keeps up, up to the buffer maximum; the connection grows its ring after
 * it ({@link ConnectionBuffers#growReceive}). An idle or slow reader does not invite a full
 * buffer of data.
 *
 * <p>Runs under the stack lock, as its connection.
 */
final class ReceiveWindow {
    /** Where auto-tuning starts. */
    static final int INITIAL_LIMIT_BYTES = 64 * 1024;
    /** The largest unscaled window field (RFC 9293 §3.1). */
    private static final int MAX_FIELD = 65535;

    /** False when the application set SO_RCVBUF: the limit is then the buffer size. */
    private final boolean autoTune;
    private int bufferBytes;
    private int limitBytes;
    /** Right edge of the window last advertised (RCV.NXT + RCV.WND); never moves left. */
    private int rightEdge;
    private long tuneStartNs;
    private long copiedSinceTuneBytes;

    ReceiveWindow(boolean autoTune) {
        this.autoTune = autoTune;
    }

    /**
     * At the open: the limit starts small within the first ring when tuning, else at the whole
     * ring; tuning raises it up to {@code maxBytes}, which the ring then grows towards.
     */
    void start(int ringBytes, int maxBytes) {
        this.bufferBytes = maxBytes;
        this.limitBytes = autoTune ? Math.min(ringBytes, INITIAL_LIMIT_BYTES) : ringBytes;
    }

    int limitBytes() {
        return limitBytes;
    }

    int rightEdge() {
        return rightEdge;
    }

    /** Sets the right edge outright (at the handshake, before any window was advertised). */
    void rightEdge(int seq) {
        rightEdge = seq;
    }

    /** RCV.NXT passed the edge (data taken and discarded after shutdownInput): the edge follows. */
    void atLeast(int rcvNxt) {
        rightEdge = Seq.max(rightEdge, rcvNxt);
    }

    /** Receive space the window may offer from RCV.NXT: the buffer's free room within the limit. */
    long spaceBytes(ByteRing buffer) {
        if (buffer == null) {
            return 0; // released in TIME-WAIT
        }
        return Math.max(0, Math.min(buffer.free(), (long) limitBytes - buffer.size()));
    }

    /** The largest window offered now: the limit, within the ring (which may grow towards the limit). */
    private int windowMaxBytes(ByteRing buffer) {
        return buffer == null ? 0 : Math.min(limitBytes, buffer.capacity());
    }

    /**
     * The application read {@code n} bytes: the limit doubles (within the buffer) when it read at
     * least half of it within one RTT, since the window then limits throughput.
     */
    void read(int n, long nowNs, long srttNs) {
        if (!autoTune || limitBytes >= bufferBytes) {
            return;
        }
        copiedSinceTuneBytes += n;
        long rttNs = Math.max(srttNs, 1_000_000L);
        if (nowNs - tuneStartNs >= rttNs) {
            if (copiedSinceTuneBytes * 2 >= limitBytes) {
                limitBytes = (int) Math.min(bufferBytes, Math.max(2L * limitBytes, 2 * copiedSinceTuneBytes));
            }
            tuneStartNs = nowNs;
            copiedSinceTuneBytes = 0;
        }
    }

    /**
     * RFC 9293 §3.8.6.2.2: after a read, whether the window opened by a useful amount (the
     * smaller of half the window and an MSS) from a small one, so it is worth an ACK now.
     */
    boolean worthAnnouncing(ByteRing buffer, int rcvNxt, int mssBytes) {
        long opened = rcvNxt + spaceBytes(buffer) - rightEdge;
        int old = rightEdge - rcvNxt;
        return opened >= Math.min(windowMaxBytes(buffer) / 2, mssBytes) && old < mssBytes * 2L;
    }

    /**
     * The window field: free receive space (out-of-order bytes sit inside it, measured from
     * RCV.NXT), scaled by {@code scale}; the right edge moves only by a useful amount (receiver
     * SWS avoidance) and never retreats. A SYN's window is never scaled (RFC 7323 §2.2).
     */
    int advertise(ByteRing buffer, int rcvNxt, int scale, int mssBytes, boolean syn) {
        if (syn) {
            // a half-open connection has no ring yet: the window of the empty one it will get
            long space = buffer == null ? limitBytes : spaceBytes(buffer);
            int field = (int) Math.min(space, MAX_FIELD);
            rightEdge = rcvNxt + field;
            return field;
        }
        if (buffer == null) {
            return 0; // released in TIME-WAIT
        }
        long free = spaceBytes(buffer);
        long current = Math.max(0, rightEdge - rcvNxt);
        long wnd = free - current >= Math.min(windowMaxBytes(buffer) / 2, mssBytes) ? free : current;
        long field = Math.min(wnd >> scale, MAX_FIELD);
        int right = rcvNxt + (int) (field << scale);
        if (Seq.gt(right, rightEdge)) {
            rightEdge = right;
        }
        return (int) field;
    }
}
