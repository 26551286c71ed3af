package io.slipstream.tcp;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import io.slipstream.testing.TcpTestNetwork;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.LongRange;

/**
 * Bulk transfers over a link losing 5 % or 20 % of the segments in both directions (data and
 * ACKs), 10 ms each way: the bytes arrive intact, and the virtual time they took is reported,
 * the figure RACK-TLP, PRR and undo are meant to bring down (docs/TCP.md). No bound on the
 * time is asserted: the figure is a measurement, not a pass/fail criterion.
 */
class TcpLossyTransferProperties {
    private static final int BYTES = 300_000;

    /** Transfers {@link #BYTES} from A to B at {@code loss}; returns the virtual milliseconds. */
    static long transferMillis(long seed, double loss) {
        boolean report = Boolean.getBoolean("tcp.lossy.report");
        try (TcpTestNetwork net = new TcpTestNetwork(seed, TcpFixtures.config()).capture(report)
                .delay(10, 0).impair(loss, 0, 0)) {
            TcpConnection[] c = TcpFixtures.connect(net);
            byte[] data = TcpFixtures.pattern(BYTES, seed);
            long start = net.clock.nanoTime();
            assertArrayEquals(data, TcpFixtures.transfer(net, c[0], c[1], data, 3_600_000));
            long ms = (net.clock.nanoTime() - start) / 1_000_000L;
            if (report) {
                System.out.printf("lossy loss=%.2f seed=%d ms=%d idleGapsOver150ms=%d %s%n", loss, seed, ms,
                        idleGaps(net, start), net.a.layer.counters());
            }
            return ms;
        }
    }

    /** Pauses of more than 150 ms between A's data segments since {@code startNs}: waits for an RTO. */
    private static int idleGaps(TcpTestNetwork net, long startNs) {
        int gaps = 0;
        long last = startNs;
        for (TcpTestNetwork.Segment s : net.captured()) {
            if (s.fromA() && s.payloadLength() > 0 && s.sentAtNanos() >= startNs) {
                if (s.sentAtNanos() - last > 150_000_000L) {
                    gaps++;
                }
                last = s.sentAtNanos();
            }
        }
        return gaps;
    }

    /** The figures docs/TCP.md quotes: seeds 1–10 at each rate, printed with -Dtcp.lossy.report=true. */
    @Example
    void fixedSeedsArriveIntact() {
        for (double loss : new double[] {0.05, 0.20}) {
            long total = 0;
            for (long seed = 1; seed <= 10; seed++) {
                total += transferMillis(seed, loss);
            }
            if (Boolean.getBoolean("tcp.lossy.report")) {
                System.out.printf("lossy loss=%.2f mean ms=%d%n", loss, total / 10);
            }
        }
    }

    @Property(tries = 20)
    void streamsArriveIntactAtFivePercentLoss(@ForAll @LongRange(min = 1, max = 1_000_000) long seed) {
        transferMillis(seed, 0.05);
    }

    @Property(tries = 20)
    void streamsArriveIntactAtTwentyPercentLoss(@ForAll @LongRange(min = 1, max = 1_000_000) long seed) {
        transferMillis(seed, 0.20);
    }
}
