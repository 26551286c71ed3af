package io.slipstream.tcp;

import java.util.Arrays;

/**
 * ACKs held to the end of a receive batch (the frames of one poll pass): a connection that
 * gets several in-order segments in one batch answers them with one ACK when the batch ends,
 * as Linux answers the segments GRO merged into one (up to 64 KiB) with one ACK. RFC 5681
 * §4.2 asks for an ACK at least every second full-sized segment; Linux departs from that
 * SHOULD in the same way, and for the same reason: on a fast path every ACK costs the peer a
 * packet to receive, and a sender that counts bytes acknowledged (RFC 3465) grows its window
 * just as well.
 *
 * <p>Only an ACK for in-order data with nothing out of order waits, and only while less than
 * {@link #MAX_HELD_BYTES} are unacknowledged: duplicate ACKs carry the loss signal and go at
 * once. Outside a batch (a layer driven on its own) nothing is held. Allocation-free once the
 * array has grown to the most connections one batch touched. Guarded by the stack lock.
 */
final class HeldAcks {
    /** Linux's largest GRO segment: what one of its ACKs answers at the most. */
    static final int MAX_HELD_BYTES = 64 * 1024;

    private boolean batchOpen;
    private TcpConnection[] held = new TcpConnection[8];
    private int count;

    void batchBegins() {
        batchOpen = true;
    }

    /** Whether {@code c}'s pending ACK may wait for the batch's end; if so, it now does. */
    boolean hold(TcpConnection c) {
        if (!batchOpen || c.acks.bytesSinceAck() >= MAX_HELD_BYTES) {
            return false;
        }
        if (!c.ackHeld) {
            if (count == held.length) {
                held = Arrays.copyOf(held, count * 2);
            }
            held[count++] = c;
            c.ackHeld = true;
        }
        return true;
    }

    /** The batch ended: each held ACK goes, unless a segment sent since carried it. */
    void batchEnds() {
        batchOpen = false;
        for (int i = 0; i < count; i++) {
            TcpConnection c = held[i];
            held[i] = null;
            c.ackHeld = false;
            if (c.ackPending) {
                c.out.sendAck();
            }
        }
        count = 0;
    }
}
