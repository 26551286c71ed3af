package io.slipstream.tcp;

/**
 * When a connection acknowledges in-order data: at once, or after the delayed-ACK timeout
 * (RFC 1122 §4.2.3.2, RFC 5681 §4.2), the way Linux decides it:
 *
 * <ul>
 * <li>Quick-ACK start: the first {@code quickack.segments} ACKs of received data go out at once,
 *     so the peer's slow start is not held back.
 * <li>Interactive ("pingpong") mode: entered when the application sends new data within the
 *     delayed-ACK timeout of receiving data; ACKs then wait, so that the answer carries them (a
 *     request draws no pure ACK before its response). Left when the timer fires first: the
 *     answer did not come in time.
 * <li>Always: at least every second full-sized segment is ACKed at once, and the timeout is at
 *     most 500 ms (TcpConfig bounds it). Out-of-order data and data that fills a hole are ACKed
 *     at once by the caller (RFC 5681 §4.2).
 * </ul>
 *
 * TCP_QUICKACK false enters interactive mode and ends the quick-ACK start; true leaves the mode
 * and restarts it. Allocation-free; runs under the stack lock.
 */
final class DelayedAcks {
    private final long timeoutNanos;
    private final int quickAckSegments;
    private int quickAcksLeft;
    private boolean interactive;
    private int bytesSinceAck;
    /** Largest data segment received: "a full segment" (the peer's MSS, as Linux estimates it). */
    private int rcvMss = TcpConnection.DEFAULT_MSS;
    private long lastReceiveNanos;
    private boolean receivedSinceSend;

    DelayedAcks(long timeoutNanos, int quickAckSegments) {
        this.timeoutNanos = timeoutNanos;
        this.quickAckSegments = quickAckSegments;
        this.quickAcksLeft = quickAckSegments;
    }

    /**
     * {@code bytes} of in-order data arrived (a segment of at most {@code maxSegment}, our MSS);
     * true when they must be ACKed now, false when the delayed-ACK timer may wait.
     */
    boolean received(int bytes, int maxSegment, long nowNanos) {
        bytesSinceAck += bytes;
        if (bytes > rcvMss) {
            rcvMss = Math.min(bytes, maxSegment);
        }
        lastReceiveNanos = nowNanos;
        receivedSinceSend = true;
        return bytesSinceAck >= 2 * rcvMss || (quickAcksLeft > 0 && !interactive);
    }

    /** New data is being sent: an answer within the timeout of the data it answers is interactive. */
    void sending(long nowNanos) {
        if (receivedSinceSend && nowNanos - lastReceiveNanos < timeoutNanos) {
            interactive = true;
        }
        receivedSinceSend = false;
    }

    /** A segment carrying an ACK went out. */
    void acked() {
        if (bytesSinceAck > 0 && quickAcksLeft > 0) {
            quickAcksLeft--; // the quick-ACK start counts the ACKs of data, as Linux's does
        }
        bytesSinceAck = 0;
    }

    /** Bytes of in-order data received since the last ACK went out. */
    int bytesSinceAck() {
        return bytesSinceAck;
    }

    /** Whether received data is waiting for its ACK. */
    boolean pending() {
        return bytesSinceAck > 0;
    }

    /** The delayed-ACK timer fired with data unacknowledged: no answer came in time. */
    void timerFired() {
        interactive = false;
    }

    long timeoutNanos() {
        return timeoutNanos;
    }

    /** TCP_QUICKACK as Linux reports it: true unless in interactive (delayed-ACK) mode. */
    boolean quickAck() {
        return !interactive;
    }

    /** TCP_QUICKACK: false delays ACKs from now on; true ACKs at once again (the quick-ACK start). */
    void quickAck(boolean on) {
        interactive = !on;
        quickAcksLeft = on ? Math.max(quickAcksLeft, quickAckSegments) : 0;
    }
}
