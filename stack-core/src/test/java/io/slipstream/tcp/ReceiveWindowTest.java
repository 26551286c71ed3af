package io.slipstream.tcp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** {@link ReceiveWindow} on its own: the advertised window, receiver SWS avoidance, auto-tuning. */
class ReceiveWindowTest {
    private static final long MS = 1_000_000L;
    private static final int MSS = 1000;
    private final Arena arena = Arena.ofConfined();

    @AfterEach
    void close() {
        arena.close();
    }

    private ByteRing ring(int bytes) {
        return new ByteRing(arena.allocate(bytes, 64));
    }

    private static void fill(ByteRing r, int n) {
        MemorySegment src = MemorySegment.ofArray(new byte[n]);
        r.put(0, src, 0, n);
        r.commit(n);
    }

    @Test
    void rfc7323_synWindowIsNeverScaled() {
        ReceiveWindow w = new ReceiveWindow(false);
        w.start(1 << 20, 1 << 20);
        assertEquals(65535, w.advertise(ring(1 << 20), 0, 5, MSS, true), "§2.2: at most 65535 in a SYN");
        assertEquals(65535, w.rightEdge());
    }

    @Test
    void rfc7323_windowFieldIsScaled() {
        ReceiveWindow w = new ReceiveWindow(false);
        w.start(1 << 20, 1 << 20);
        assertEquals((1 << 20) >> 5, w.advertise(ring(1 << 20), 0, 5, MSS, false));
        assertEquals(1 << 20, w.rightEdge());
    }

    /** An 8192-byte window was offered, then 8192 bytes arrived and wait for the reader. */
    private ReceiveWindow offeredThenFilled(ByteRing buf) {
        ReceiveWindow w = new ReceiveWindow(false);
        w.start(8192, 8192);
        w.advertise(buf, 0, 0, MSS, false);
        fill(buf, 8192);
        return w;
    }

    @Test
    void rfc9293_rightEdgeNeverRetreats() {
        ByteRing buf = ring(8192);
        ReceiveWindow w = offeredThenFilled(buf);
        assertEquals(0, w.advertise(buf, 8192, 0, MSS, false), "a full buffer offers nothing");
        assertEquals(8192, w.rightEdge(), "§3.8.6: the edge stays where it was");
    }

    @Test
    void rfc9293_receiverAvoidsSillyWindowUpdates() {
        ByteRing buf = ring(8192);
        ReceiveWindow w = offeredThenFilled(buf);
        w.advertise(buf, 8192, 0, MSS, false);
        buf.consume(100); // a small read
        assertFalse(w.worthAnnouncing(buf, 8192, MSS), "§3.8.6.2.2: 100 bytes is no useful opening");
        assertEquals(0, w.advertise(buf, 8192, 0, MSS, false), "and the field stays shut");
        buf.consume(900);
        assertTrue(w.worthAnnouncing(buf, 8192, MSS), "one MSS opened from a small window");
        assertEquals(1000, w.advertise(buf, 8192, 0, MSS, false));
    }

    @Test
    void rfc7323_receiveWindowAutoTunesWithinTheBuffer() {
        ReceiveWindow w = new ReceiveWindow(true);
        w.start(1 << 20, 1 << 20);
        assertEquals(ReceiveWindow.INITIAL_LIMIT_BYTES, w.limitBytes(), "starts small");
        w.read(10_000, 5 * MS, 10 * MS);
        w.read(10_000, 11 * MS, 10 * MS);
        assertEquals(ReceiveWindow.INITIAL_LIMIT_BYTES, w.limitBytes(), "a slow reader does not grow it");
        for (int i = 1; i <= 20; i++) {
            w.read(ReceiveWindow.INITIAL_LIMIT_BYTES * 8, 11 * MS + i * 10 * MS, 10 * MS);
        }
        assertEquals(1 << 20, w.limitBytes(), "a reader keeping up grows it to the buffer, no further");
    }

    @Test
    void rfc7323_windowLimitIsTheBufferWhenSoRcvbufIsSet() {
        ReceiveWindow w = new ReceiveWindow(false);
        w.start(1 << 20, 1 << 20);
        w.read(1 << 20, 100 * MS, MS);
        assertEquals(1 << 20, w.limitBytes());
    }
}
