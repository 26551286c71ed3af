package io.slipstream.tcp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.slipstream.testing.TcpTestNetwork;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Segments on the wire in a typical request/response exchange ({@link TcpFixtures#exchange}: the
 * server answers a millisecond after the request arrived, headers and body in one gathering
 * write under TCP_NODELAY, as Jetty does). Counted from the capture, per side.
 */
class TcpSegmentsOnTheWireTest {
    private static List<Integer> dataSegmentSizes(TcpTestNetwork net, TcpConnection c) {
        return TcpFixtures.sentBy(net, c).stream().filter(s -> s.payloadLength() > 0)
                .map(TcpTestNetwork.Segment::payloadLength).toList();
    }

    /**
     * A gathering write (headers and body, as Jetty writes them) leaves in full-sized segments,
     * as one writev does on Linux: the sender sends full segments whenever it can (RFC 9293
     * §3.8.6.2.1), and TCP_NODELAY only means that the last, partial one is not held back. Each
     * buffer of the gather used to go out as a segment of its own.
     */
    @Test
    void rfc9293_gatheringWriteGoesOutInFullSegments() {
        try (TcpTestNetwork net = new TcpTestNetwork(120, TcpFixtures.config())) {
            TcpConnection[] c = TcpFixtures.connect(net, TcpConnectOptions.DEFAULT.withNoDelay(true));
            int mss = c[1].mss();
            net.clearCaptured();
            TcpFixtures.exchange(net, c[0], c[1], 300, 250, 1000);
            assertEquals(List.of(1250), dataSegmentSizes(net, c[1]), "headers and a small body: one segment");
            net.clearCaptured();
            TcpFixtures.exchange(net, c[0], c[1], 300, 250, 4000);
            assertEquals(List.of(mss, mss, 4250 - 2 * mss), dataSegmentSizes(net, c[1]),
                    "headers and a larger body: full segments, then the rest");
            net.clearCaptured();
            TcpFixtures.exchange(net, c[0], c[1], 300, 100, 0, 20, 30);
            assertEquals(List.of(150), dataSegmentSizes(net, c[1]), "small and empty buffers: one segment");
        }
    }

    /**
     * RFC 6928: the initial window is min(10·MSS, max(2·MSS, 14600 bytes)), ten segments at the
     * usual MSS, as Linux uses. A 14,000-byte response on a fresh connection leaves in one
     * flight, before the first of the client's ACKs reaches the server; with RFC 5681's three
     * or four segments it took three round trips.
     */
    @Test
    void rfc6928_initialWindowTenSegments() {
        try (TcpTestNetwork net = new TcpTestNetwork(121, TcpFixtures.config())) {
            TcpConnection[] c = TcpFixtures.connect(net, TcpConnectOptions.DEFAULT.withNoDelay(true));
            assertEquals(10L * c[1].mss(), c[1].congestionWindow());
            net.clearCaptured();
            TcpFixtures.exchange(net, c[0], c[1], 300, 400, 13_600);
            List<TcpTestNetwork.Segment> wire = net.captured();
            int request = wire.indexOf(wire.stream().filter(s -> s.fromA() && s.payloadLength() > 0).findFirst().orElseThrow());
            int firstFlight = 0;
            for (TcpTestNetwork.Segment s : wire.subList(request + 1, wire.size())) {
                if (s.fromA()) {
                    break; // the client's first answer to the response
                }
                if (s.payloadLength() > 0) {
                    firstFlight++;
                }
            }
            assertEquals(10, firstFlight, "the whole response in the first flight: " + wire);
        }
    }

    /**
     * Delayed ACKs (RFC 1122 §4.2.3.2, RFC 5681 §4.2) as Linux makes them: a connection starts
     * by ACKing at once (the quick-ACK start), but once the application answers within the
     * delayed-ACK timeout of receiving, the exchange is interactive and each ACK waits for the
     * answer that carries it. Over 200 exchanges the only pure ACKs are those of the first
     * exchange and, since nothing follows the last response, the timer's ACK of it; every
     * request and response used to draw one until the sixteen quick ACKs were spent.
     */
    @Test
    void rfc1122_delayedAckLetsTheResponseCarryTheAck() {
        try (TcpTestNetwork net = new TcpTestNetwork(122, TcpFixtures.config())) {
            TcpConnection[] c = TcpFixtures.connect(net, TcpConnectOptions.DEFAULT.withNoDelay(true));
            net.clearCaptured();
            TcpFixtures.exchange(net, c[0], c[1], 300, 250, 1750);
            assertEquals(1, TcpFixtures.pureAcksBy(net, c[1]).size(), "the first request, in the quick-ACK start");
            assertEquals(2, TcpFixtures.pureAcksBy(net, c[0]).size(), "the first response's two segments, likewise");
            net.clearCaptured();
            for (int i = 1; i < 200; i++) {
                TcpFixtures.exchange(net, c[0], c[1], 300, 250, 1750);
            }
            assertEquals(List.of(), TcpFixtures.pureAcksBy(net, c[1]), "each request's ACK rides on its response");
            assertEquals(List.of(), TcpFixtures.pureAcksBy(net, c[0]), "each response's ACK rides on the next request");
            assertEquals(199 * 2, dataSegmentSizes(net, c[1]).size());
            long lastResponse = net.captured().getLast().sentAtNanos();
            net.runFor(100);
            List<TcpTestNetwork.Segment> last = TcpFixtures.pureAcksBy(net, c[0]);
            assertEquals(1, last.size(), "the last response is ACKed by the timer");
            assertEquals(lastResponse + 1_000_000L + 40_000_000L, last.get(0).sentAtNanos(), "arrival + 40 ms");
        }
    }
}
