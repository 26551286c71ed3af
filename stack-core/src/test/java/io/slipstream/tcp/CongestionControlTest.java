package io.slipstream.tcp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.slipstream.testing.TcpTestNetwork;
import org.junit.jupiter.api.Test;

/** The congestion controllers on their own: RFC 5681 NewReno and RFC 9438 CUBIC. */
class CongestionControlTest {
    private static final int MSS = 1000;
    private static final long RTT = 100_000_000L; // long enough that CUBIC, not the Reno-friendly estimate, leads

    @Test
    void rfc5681_slowStartAddsOneMssPerAck() {
        NewReno r = new NewReno(MSS);
        long initial = r.cwnd();
        r.onAck(MSS, MSS, 0, RTT);
        r.onAck(3 * MSS, MSS, 0, RTT);
        assertEquals(initial + 2 * MSS, r.cwnd(), "at most one MSS per ACK");
    }

    @Test
    void rfc6928_initialWindowIsTenSegmentsUpTo14600Bytes() {
        for (int mss : new int[] {536, 1000, 1448, 1460}) {
            assertEquals(10L * mss, new NewReno(mss).cwnd(), "ten segments of " + mss);
            assertEquals(10L * mss, new Cubic(mss).cwnd(), "ten segments of " + mss);
        }
        assertEquals(14_600, new NewReno(4000).cwnd(), "larger segments: 14,600 bytes");
        assertEquals(2L * 8948, new NewReno(8948).cwnd(), "but never under two segments");
    }

    @Test
    void rfc5681_congestionAvoidanceAddsOneMssPerWindow() {
        NewReno r = new NewReno(MSS);
        r.onFastRecovery(20 * MSS, MSS, 0);
        assertEquals(10 * MSS, r.ssthresh(), "half the flight");
        assertEquals(10 * MSS, r.cwnd());
        for (int i = 0; i < 10; i++) {
            r.onAck(MSS, MSS, 0, RTT);
        }
        assertEquals(11 * MSS, r.cwnd());
        r.onTimeout(10 * MSS, MSS, 0);
        assertEquals(MSS, r.cwnd(), "one segment after a timeout");
    }

    @Test
    void rfc9438_cubicDecreasesByBeta() {
        Cubic c = new Cubic(MSS);
        c.setCwnd(100L * MSS);
        c.onFastRecovery(100L * MSS, MSS, 0);
        assertEquals(70L * MSS, c.ssthresh());
        assertEquals(70L * MSS, c.cwnd());
        assertEquals(100.0, c.wMaxSegments(), 1e-9);
        c.onFastRecovery(70L * MSS, MSS, 0);
        assertEquals(70.0 * 1.7 / 2, c.wMaxSegments(), 1e-9, "fast convergence lowers W_max");
    }

    @Test
    void rfc9438_cubicReturnsToWmaxAfterK() {
        Cubic c = new Cubic(MSS);
        c.setCwnd(100L * MSS);
        c.onFastRecovery(100L * MSS, MSS, 0);
        double k = Math.cbrt(100 * 0.3 / 0.4);
        long t = 0;
        long end = (long) (k * 1e9);
        while (t < end) {
            long acks = c.cwnd() / MSS;
            for (long i = 0; i < acks; i++) {
                c.onAck(MSS, MSS, t, RTT);
            }
            t += RTT;
        }
        double seg = (double) c.cwnd() / MSS;
        assertTrue(seg > 90 && seg < 110, "about W_max after K seconds: " + seg);
        long atK = c.cwnd();
        for (int r = 0; r < 300; r++) {
            long acks = c.cwnd() / MSS;
            for (long i = 0; i < acks; i++) {
                c.onAck(MSS, MSS, t, RTT);
            }
            t += RTT;
        }
        assertTrue(c.cwnd() > atK * 1.2, "convex growth beyond W_max");
    }

    @Test
    void rfc9438_cubicIsTheDefault() {
        try (TcpTestNetwork net = new TcpTestNetwork(90, TcpFixtures.config())) {
            TcpConnection[] c = TcpFixtures.connect(net);
            assertInstanceOf(Cubic.class, c[0].cc);
        }
        try (TcpTestNetwork net = new TcpTestNetwork(91, TcpFixtures.config("cc", "newreno"))) {
            TcpConnection[] c = TcpFixtures.connect(net);
            assertEquals(NewReno.class, c[0].cc.getClass());
        }
    }
}
