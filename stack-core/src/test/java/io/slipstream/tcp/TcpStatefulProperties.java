package io.slipstream.tcp;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.slipstream.stats.Counters;
import io.slipstream.testing.TcpTestNetwork;
import io.slipstream.wire.Tcp;
import io.slipstream.wire.TcpOptions;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.DoubleRange;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;

/**
 * Action chains: random application calls on both ends, clock advances, link impairments and
 * (in the hostile variant) segments crafted by the test, with the invariants checked after
 * every event. Each action is one int (kind, side, argument), so failures shrink to short
 * chains that replay exactly.
 */
class TcpStatefulProperties {

    /** What happened to one direction of the stream. */
    private static final class Direction {
        final ByteArrayOutputStream sent = new ByteArrayOutputStream();
        final ByteArrayOutputStream received = new ByteArrayOutputStream();

        void checkPrefix() {
            byte[] s = sent.toByteArray();
            byte[] r = received.toByteArray();
            assertTrue(r.length <= s.length, "more received than sent");
            assertArrayEquals(Arrays.copyOf(s, r.length), r, "received bytes are exactly a prefix of those sent");
        }
    }

    static final class Run {
        final TcpTestNetwork net;
        final TcpInvariants inv;
        final TcpConnection[] c;
        final Direction[] dir = {new Direction(), new Direction()}; // 0: A->B, 1: B->A
        final Random random;
        boolean closedEarly;
        boolean hostile;
        int counter;

        Run(long seed, TcpConfig cfg) {
            net = new TcpTestNetwork(seed, cfg).capture(false);
            inv = new TcpInvariants(net);
            c = TcpFixtures.connect(net);
            random = new Random(seed);
        }

        void send(int side, int n) {
            TcpConnection x = c[side];
            if (!x.state().sendsData() || x.pendingError() != null || closedOutput[side]) {
                return;
            }
            byte[] data = new byte[n];
            for (int i = 0; i < n; i++) {
                data[i] = (byte) (counter++ * 31 + side);
            }
            ByteBuffer b = ByteBuffer.wrap(data);
            int accepted = x.send(b);
            dir[side].sent.write(data, 0, accepted);
        }

        final boolean[] closedOutput = new boolean[2];

        void read(int side, int n) {
            TcpConnection x = c[side];
            if (x.pendingError() != null) {
                return;
            }
            ByteBuffer b = ByteBuffer.allocate(n);
            int got = x.receive(b);
            if (got > 0) {
                dir[1 - side].received.write(b.array(), 0, got);
                dir[1 - side].checkPrefix();
            }
        }

        void inject(int side, int arg) {
            TcpConnection x = c[side];
            if (x.state() == TcpState.CLOSED) {
                return;
            }
            int far = 1_000_000 + random.nextInt(1 << 30);
            int seq;
            int ack;
            int flags;
            byte[] payload = new byte[0];
            switch (arg % 7) {
                case 0 -> { // RST in the window but not at RCV.NXT: a challenge ACK, no reset
                    seq = x.rcvNxt() + 1 + random.nextInt(Math.max(1, x.receiveWindow() - 1) + 1);
                    if (x.receiveWindow() <= 1) {
                        seq = x.rcvNxt() + far;
                    }
                    ack = random.nextInt();
                    flags = Tcp.RST;
                }
                case 1 -> { // SYN anywhere
                    seq = random.nextInt();
                    ack = 0;
                    flags = Tcp.SYN;
                }
                case 2 -> { // data far outside the window
                    seq = x.rcvNxt() + far;
                    ack = x.sndUna();
                    flags = Tcp.ACK | Tcp.PSH;
                    payload = new byte[1 + random.nextInt(500)];
                }
                case 3 -> { // data far behind
                    seq = x.rcvNxt() - far;
                    ack = x.sndUna();
                    flags = Tcp.ACK;
                    payload = new byte[1 + random.nextInt(500)];
                }
                case 4 -> { // an ACK for data never sent, or too old
                    seq = x.rcvNxt();
                    ack = random.nextBoolean() ? x.sndMax() + 1 + random.nextInt(1 << 20) : x.sndUna() - far;
                    flags = Tcp.ACK;
                }
                case 5 -> { // random flags, out-of-window sequence
                    seq = x.rcvNxt() + far;
                    ack = random.nextInt();
                    flags = random.nextInt(256);
                }
                default -> { // FIN far outside the window
                    seq = x.rcvNxt() + far;
                    ack = x.sndUna();
                    flags = Tcp.FIN | Tcp.ACK;
                }
            }
            TcpOptions o = null;
            if (random.nextBoolean()) {
                o = new TcpOptions();
                o.hasTimestamps = true;
                o.tsVal = random.nextInt();
                o.tsEcr = random.nextInt();
                if (random.nextBoolean()) {
                    o.addSackBlock(random.nextInt(), random.nextInt());
                }
            }
            TcpFixtures.inject(net, x, seq, ack, flags, random.nextInt(65536), o, payload);
        }

        void apply(int action) {
            int kind = Math.floorMod(action, 10);
            int side = Math.floorMod(action / 10, 2);
            int arg = Math.abs(action / 20);
            TcpConnection x = c[side];
            switch (kind) {
                case 0 -> send(side, arg % 6000);
                case 1 -> read(side, arg % 5000 + 1);
                case 2 -> net.runFor(arg % 3000);
                case 3 -> {
                    if (x.state() != TcpState.CLOSED) {
                        x.shutdownOutput();
                        closedOutput[side] = true;
                    }
                }
                case 4 -> {
                    if (arg % 4 == 0) {
                        x.close();
                        closedEarly = true;
                        closedOutput[side] = true;
                    }
                }
                case 5 -> {
                    if (arg % 8 == 0) {
                        x.abort();
                        closedEarly = true;
                    }
                }
                case 6 -> net.impair((arg % 21) / 100.0, (arg % 3) / 100.0, (arg % 5) / 50.0);
                case 7 -> {
                    if (hostile) {
                        inject(side, arg);
                    }
                }
                case 8 -> {
                    if (x.state() != TcpState.CLOSED) {
                        x.noDelay(arg % 2 == 0);
                    }
                }
                default -> net.runFor(1);
            }
            inv.check();
            dir[0].checkPrefix();
            dir[1].checkPrefix();
        }

        /** Both ends finish: reliable link, outputs shut, inputs drained, then closed. */
        void finish() {
            net.impair(0, 0, 0);
            for (int side = 0; side < 2; side++) {
                if (c[side].state() != TcpState.CLOSED) {
                    c[side].shutdownOutput();
                }
            }
            java.util.function.BooleanSupplier bothDone = () -> {
                inv.check();
                for (int side = 0; side < 2; side++) {
                    drainSide(side);
                }
                return TcpFixtures.done(c[0]) && TcpFixtures.done(c[1]);
            };
            boolean ended = net.runUntil(bothDone, 1_000_000); // past the data give-up time, 924.6 s
            if (!ended && (closedEarly || c[0].pendingError() != null || c[1].pendingError() != null)) {
                // after an early close or abort the peer's RST may have been lost: once the application closes too, the orphan
                // times out of FIN-WAIT-2 on its own
                drainSide(0);
                drainSide(1);
                c[0].close();
                c[1].close();
                ended = net.runUntil(bothDone, 3_600_000);
            }
            assertTrue(ended, "both ends reach CLOSED or TIME-WAIT: " + c[0] + " " + c[0].debugState() + " / "
                    + c[1] + " " + c[1].debugState());
            drainSide(0);
            drainSide(1);
            dir[0].checkPrefix();
            dir[1].checkPrefix();
            boolean clean = !closedEarly && c[0].pendingError() == null && c[1].pendingError() == null;
            if (clean) {
                assertEquals(dir[0].sent.size(), dir[0].received.size(), "A->B complete");
                assertEquals(dir[1].sent.size(), dir[1].received.size(), "B->A complete");
            }
            c[0].close();
            c[1].close();
            net.runFor(2 * net.a.layer.config().mslMs() + 10);
            assertEquals(0, net.a.layer.connectionCount() + net.b.layer.connectionCount(), "all gone after 2 MSL");
            inv.check();
            net.close();
        }

        private void drainSide(int side) {
            TcpConnection x = c[side];
            if (x.pendingError() != null) {
                return;
            }
            ByteBuffer b = ByteBuffer.allocate(8192);
            int n;
            while ((n = x.receive(b)) > 0) {
                dir[1 - side].received.write(b.array(), 0, n);
                b.clear();
            }
        }
    }

    static TcpConfig config(int rcvbuf) {
        return TcpStreamProperties.cfg("rcvbuf", Integer.toString(rcvbuf), "sndbuf", Integer.toString(rcvbuf));
    }

    @Property
    void randomApplicationCallsKeepInvariants(@ForAll long seed, @ForAll @Size(max = 40) List<Integer> actions,
                                              @ForAll @IntRange(min = 1024, max = 32768) int buffers) {
        Run r = new Run(seed, config(buffers));
        for (int a : actions) {
            r.apply(a);
        }
        r.finish();
    }

    @Property
    void hostileSegmentsKeepInvariants(@ForAll long seed, @ForAll @Size(max = 40) List<Integer> actions,
                                       @ForAll @IntRange(min = 1024, max = 32768) int buffers) {
        Run r = new Run(seed, config(buffers));
        r.hostile = true;
        for (int a : actions) {
            r.apply(a);
        }
        r.finish();
    }

    @Property
    void hostileSegmentsNeverCorruptAStream(@ForAll long seed, @ForAll @Size(min = 1, max = 30) List<Integer> attacks,
                                            @ForAll @IntRange(max = 30_000) int size) {
        Run r = new Run(seed, config(16384));
        r.hostile = true;
        int chunk = Math.max(1, size / attacks.size());
        for (int a : attacks) {
            r.send(0, chunk);
            r.inject(1, Math.abs(a));
            r.net.runFor(5);
            r.read(1, 4096);
            r.inv.check();
        }
        r.finish();
    }

    @Property
    void closeAlwaysTerminates(@ForAll long seed, @ForAll @IntRange(max = 5) int closeA, @ForAll @IntRange(max = 5) int closeB,
                               @ForAll @IntRange(max = 2000) int gapMs, @ForAll @DoubleRange(max = 0.2) double loss,
                               @ForAll @IntRange(max = 20_000) int pendingA, @ForAll @IntRange(max = 20_000) int pendingB) {
        Run r = new Run(seed, config(16384));
        r.net.impair(loss, 0.02, 0.1);
        r.send(0, pendingA);
        r.send(1, pendingB);
        closeWith(r, 0, closeA);
        r.net.runFor(gapMs);
        r.inv.check();
        closeWith(r, 1, closeB);
        boolean ended = r.net.runUntil(() -> {
            r.inv.check();
            return TcpFixtures.done(r.c[0]) && TcpFixtures.done(r.c[1]);
        }, 3_600_000);
        assertTrue(ended, "bounded close: " + r.c[0] + " / " + r.c[1]);
        r.c[0].close();
        r.c[1].close();
        r.net.runFor(2 * r.net.a.layer.config().mslMs() + 10);
        assertEquals(0, r.net.a.layer.connectionCount() + r.net.b.layer.connectionCount());
        r.inv.check();
        r.net.close();
    }

    private static void closeWith(Run r, int side, int how) {
        TcpConnection x = r.c[side];
        switch (how) {
            case 0 -> x.close();
            case 1 -> x.abort();
            case 2 -> {
                x.linger(0);
                x.close();
            }
            case 3 -> {
                x.linger(1);
                x.close();
            }
            case 4 -> {
                x.shutdownInput();
                x.close();
            }
            default -> {
                x.shutdownOutput();
                x.close();
            }
        }
    }

    @Property
    void randomBytesNeverBreakTheLayer(@ForAll long seed, @ForAll @Size(max = 30) List<byte[]> garbage,
                                       @ForAll boolean validChecksum) {
        try (TcpTestNetwork net = new TcpTestNetwork(seed, TcpFixtures.config()).capture(false)) {
            TcpInvariants inv = new TcpInvariants(net);
            TcpConnection[] c = TcpFixtures.connect(net);
            for (byte[] g : garbage) {
                byte[] seg = Arrays.copyOf(g, Math.min(g.length, 1400));
                java.lang.foreign.MemorySegment s = java.lang.foreign.MemorySegment.ofArray(seg);
                if (seg.length >= 20) {
                    // aim at the live connection or the listener's port half the time
                    io.slipstream.wire.Bytes.putU16(s, 2, seg[0] % 2 == 0 ? c[1].localPort() : TcpFixtures.PORT);
                    io.slipstream.wire.Bytes.putU16(s, 0, c[0].localPort());
                    if (validChecksum) {
                        Tcp.writeChecksum(s, 0, seg.length, TcpTestNetwork.ADDRESS_A, TcpTestNetwork.ADDRESS_B);
                    }
                }
                net.b.receive(TcpTestNetwork.ADDRESS_A, seg);
                inv.check();
            }
            net.runFor(1000);
            inv.check();
            Counters<TcpCounter> k = net.b.layer.counters();
            assertTrue(k.get(TcpCounter.SEGMENTS_RECEIVED) >= garbage.size());
        }
    }

    @Property
    void synFloodFallsBackToCookiesAndRealClientsConnect(@ForAll long seed, @ForAll @IntRange(min = 1, max = 300) int flood,
                                                         @ForAll @IntRange(min = 1, max = 8) int backlog) {
        TcpConfig cfg = TcpFixtures.config("syn.backlog", Integer.toString(backlog));
        try (TcpTestNetwork net = new TcpTestNetwork(seed, cfg).capture(false)) {
            TcpListener l = net.b.layer.listen(TcpFixtures.PORT, 4);
            int halfOpenLimit = Math.max(4, backlog); // the listen backlog, or syn.backlog if larger
            net.dropFilter = s -> s.destinationPort() < 1024 + 300 && s.destinationPort() >= 1024;
            Random rnd = new Random(seed);
            for (int i = 0; i < flood; i++) {
                net.b.receive(TcpTestNetwork.ADDRESS_A, TcpTestNetwork.craft(TcpTestNetwork.ADDRESS_A,
                        TcpTestNetwork.ADDRESS_B, 1024 + i, TcpFixtures.PORT, rnd.nextInt(), 0, Tcp.SYN, 1000, null,
                        new byte[0]));
            }
            assertTrue(net.b.layer.connectionCount() <= halfOpenLimit, "half-open bounded by the limit");
            TcpConnection client = net.a.layer.connect(TcpTestNetwork.ADDRESS_B, TcpFixtures.PORT);
            assertTrue(net.runUntil(l::acceptable, 10_000));
            TcpConnection server = l.accept();
            byte[] data = TcpFixtures.pattern(5000, seed);
            assertArrayEquals(data, TcpFixtures.transfer(net, client, server, data, 60_000));
            if (flood >= halfOpenLimit) {
                assertTrue(net.b.layer.counters().get(TcpCounter.SYN_COOKIES_SENT) >= 1);
            }
        }
    }
}
