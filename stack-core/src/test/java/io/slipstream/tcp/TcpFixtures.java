package io.slipstream.tcp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.slipstream.testing.TcpTestNetwork;
import io.slipstream.wire.Tcp;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/** Shared set-up for TCP tests: a connected pair over a {@link TcpTestNetwork}. */
final class TcpFixtures {
    static final int PORT = 8080;

    private TcpFixtures() {}

    static TcpConfig config() {
        return config(new String[0]);
    }

    /** A config from {@code slipstream.tcp.*} settings given as name/value pairs ("rto.min.ms", "50"). */
    static TcpConfig config(String... nameValues) {
        java.util.Map<String, String> m = new java.util.HashMap<>();
        m.put("tcp.rcvbuf", "65536");
        m.put("tcp.sndbuf", "65536");
        for (int i = 0; i < nameValues.length; i += 2) {
            m.put("tcp." + nameValues[i], nameValues[i + 1]);
        }
        return TcpConfig.from(io.slipstream.config.Settings.of(m));
    }

    /** Delivers a crafted segment to {@code target} as if from its peer. */
    static void inject(TcpTestNetwork net, TcpConnection target, int seq, int ack, int flags, int window,
                       io.slipstream.wire.TcpOptions options, byte[] payload) {
        TcpTestNetwork.Node node = target.localAddress() == TcpTestNetwork.ADDRESS_A ? net.a : net.b;
        node.receive(target.remoteAddress(), TcpTestNetwork.craft(target.remoteAddress(), target.localAddress(),
                target.remotePort(), target.localPort(), seq, ack, flags, window, options, payload));
    }

    /** Segments captured from the node of {@code c}. */
    static List<TcpTestNetwork.Segment> sentBy(TcpTestNetwork net, TcpConnection c) {
        List<TcpTestNetwork.Segment> out = new ArrayList<>();
        for (TcpTestNetwork.Segment s : net.captured()) {
            if (s.source() == c.localAddress() && s.sourcePort() == c.localPort()) {
                out.add(s);
            }
        }
        return out;
    }

    /** Client on A, server on B, handshake completed; connections [client, server]. */
    static TcpConnection[] connect(TcpTestNetwork net) {
        return connect(net, TcpConnectOptions.DEFAULT);
    }

    static TcpConnection[] connect(TcpTestNetwork net, TcpConnectOptions options) {
        TcpListener l = net.b.layer.listen(PORT, 16, options);
        TcpConnection client = net.a.layer.connect(TcpTestNetwork.ADDRESS_B, PORT, 0, options);
        TcpConnection[] server = new TcpConnection[1];
        assertTrue(net.runUntil(() -> (server[0] = server[0] != null ? server[0] : l.accept()) != null
                && client.state() == TcpState.ESTABLISHED, 120_000), "handshake completes");
        l.close();
        return new TcpConnection[] {client, server[0]};
    }

    /**
     * A connected pair (TCP_NODELAY) whose congestion window a first 60 KB transfer opened,
     * everything acknowledged and the capture cleared: for loss-recovery tests on a delayed link.
     */
    static TcpConnection[] warmPair(TcpTestNetwork net) {
        TcpConnection[] c = connect(net, TcpConnectOptions.DEFAULT.withNoDelay(true));
        transfer(net, c[0], c[1], new byte[60_000], 10_000);
        assertTrue(net.runUntil(() -> c[0].sndUna() == c[0].sndMax(), 10_000), "everything acknowledged");
        net.runFor(100);
        net.clearCaptured();
        return c;
    }

    static long counter(TcpTestNetwork.Node n, TcpCounter c) {
        return n.layer.counters().get(c);
    }

    /** A connection from A accepted on B's listener, which stays open for more. */
    record Accepted(TcpListener listener, TcpConnection client, TcpConnection server) {}

    /**
     * A connects from {@code clientPort} (0: ephemeral) with the default options to B's
     * listener on {@link #PORT} (backlog 4, {@code serverOptions}); after 10 ms B accepts.
     */
    static Accepted accept(TcpTestNetwork net, int clientPort, TcpConnectOptions serverOptions) {
        TcpListener l = net.b.layer.listen(PORT, 4, serverOptions);
        TcpConnection client = net.a.layer.connect(TcpTestNetwork.ADDRESS_B, PORT, clientPort, TcpConnectOptions.DEFAULT);
        net.runFor(10);
        return new Accepted(l, client, l.accept());
    }

    static byte[] pattern(int n, long seed) {
        byte[] b = new byte[n];
        new java.util.Random(seed).nextBytes(b);
        return b;
    }

    /** Pumps {@code data} from {@code from} to {@code to} and returns what {@code to} read. */
    static byte[] transfer(TcpTestNetwork net, TcpConnection from, TcpConnection to, byte[] data, long maxMillis) {
        ByteBuffer src = ByteBuffer.wrap(data);
        ByteBuffer dst = ByteBuffer.allocate(data.length);
        ByteBuffer chunk = ByteBuffer.allocate(8192);
        boolean ok = net.runUntil(() -> {
            if (src.hasRemaining()) {
                from.send(src);
            }
            chunk.clear();
            int n;
            while ((n = to.receive(chunk)) > 0) {
                chunk.flip();
                dst.put(chunk);
                chunk.clear();
            }
            return !dst.hasRemaining();
        }, maxMillis);
        assertTrue(ok, "transfer of " + data.length + " bytes finished; got " + dst.position() + " "
                + net.a.layer.counters() + " / " + net.b.layer.counters());
        return dst.array();
    }

    /** How long the server of {@link #exchange} takes to answer: a worker thread picking the request up. */
    static final long WORKER_DELAY_MS = 1;

    /**
     * One request/response exchange as an HTTP server such as Jetty makes it: the client sends
     * {@code requestBytes}; the server reads the request and answers from a worker
     * {@link #WORKER_DELAY_MS} later, with {@code responseParts} (headers, body) in one gathering
     * write; the client reads the whole response.
     */
    static void exchange(TcpTestNetwork net, TcpConnection client, TcpConnection server, int requestBytes,
                         int... responseParts) {
        exchangeAnsweredAfter(net, client, server, WORKER_DELAY_MS, requestBytes, responseParts);
    }

    /** {@link #exchange} with the server taking {@code answerMillis} to answer. */
    static void exchangeAnsweredAfter(TcpTestNetwork net, TcpConnection client, TcpConnection server,
                                      long answerMillis, int requestBytes, int... responseParts) {
        assertEquals(requestBytes, client.send(ByteBuffer.wrap(pattern(requestBytes, 1))));
        ByteBuffer request = ByteBuffer.allocate(requestBytes);
        assertTrue(net.runUntil(() -> {
            server.receive(request);
            return !request.hasRemaining();
        }, 10_000), "the request arrived");
        net.runFor(answerMillis);
        ByteBuffer[] response = new ByteBuffer[responseParts.length];
        int total = 0;
        for (int i = 0; i < response.length; i++) {
            response[i] = ByteBuffer.wrap(pattern(responseParts[i], i));
            total += responseParts[i];
        }
        assertEquals(total, server.send(response, 0, response.length));
        ByteBuffer got = ByteBuffer.allocate(total);
        assertTrue(net.runUntil(() -> {
            client.receive(got);
            return !got.hasRemaining();
        }, 10_000), "the response arrived");
    }

    /** Pure ACKs {@code c} sent (no data, SYN, FIN or RST), from the capture. */
    static List<TcpTestNetwork.Segment> pureAcksBy(TcpTestNetwork net, TcpConnection c) {
        List<TcpTestNetwork.Segment> out = new ArrayList<>();
        for (TcpTestNetwork.Segment s : sentBy(net, c)) {
            if (s.payloadLength() == 0 && (s.flags() & (Tcp.SYN | Tcp.FIN | Tcp.RST)) == 0) {
                out.add(s);
            }
        }
        return out;
    }

    /** Both close; runs until both reach CLOSED or TIME-WAIT. */
    static void closeBoth(TcpTestNetwork net, TcpConnection x, TcpConnection y) {
        x.shutdownOutput();
        y.shutdownOutput();
        ByteBuffer sink = ByteBuffer.allocate(4096);
        // Longer than the give-up time of data retransmissions (924.6 s, as Linux's tcp_retries2):
        // a FIN whose answers are lost is retried, the RTO backed off up to 120 s, until then.
        assertTrue(net.runUntil(() -> {
            drain(x, sink);
            drain(y, sink);
            return done(x) && done(y);
        }, 1_000_000), "both sides close: " + x + " " + y);
        x.close();
        y.close();
    }

    static void drain(TcpConnection c, ByteBuffer sink) {
        sink.clear();
        while (c.state() != TcpState.CLOSED && c.pendingError() == null && c.receive(sink) > 0) {
            sink.clear();
        }
    }

    static boolean done(TcpConnection c) {
        return c.state() == TcpState.CLOSED || c.state() == TcpState.TIME_WAIT;
    }

    /** Records every state transition of every connection on both layers. */
    static List<String> recordTransitions(TcpTestNetwork net) {
        List<String> illegal = new ArrayList<>();
        TcpConnection.StateObserver obs = (c, from, to) -> {
            if (!from.canMoveTo(to)) {
                illegal.add(c + ": " + from + " -> " + to);
            }
        };
        net.a.layer.stateObserver(obs);
        net.b.layer.stateObserver(obs);
        return illegal;
    }

    static void assertNoInternalErrors(TcpTestNetwork net) {
        assertEquals(0, net.a.layer.counters().get(TcpCounter.DROP_INTERNAL_ERROR),
                () -> "A: " + net.a.layer.lastInternalError());
        assertEquals(0, net.b.layer.counters().get(TcpCounter.DROP_INTERNAL_ERROR),
                () -> "B: " + net.b.layer.lastInternalError());
    }
}
