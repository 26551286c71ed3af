package io.slipstream.bench;

/**
 * Percentiles of round-trip times read from the sorted samples themselves (exact, no
 * histogram buckets), as every ping-pong benchmark here reports them.
 */
public final class Percentiles {
    private Percentiles() {}

    /** The {@code q} quantile (0..1) of {@code sortedNs}, in microseconds. */
    public static double pct(long[] sortedNs, double q) {
        return sortedNs[Math.min(sortedNs.length - 1, (int) (sortedNs.length * q))] / 1e3;
    }

    /** One line: p50, p90, p99, p99.9 and the maximum of {@code sortedNs}, labelled {@code what}. */
    public static void print(String what, long[] sortedNs) {
        System.out.printf("%-28s RTT p50 %.2f µs, p90 %.2f µs, p99 %.2f µs, p99.9 %.2f µs, max %.2f µs%n", what,
                pct(sortedNs, 0.50), pct(sortedNs, 0.90), pct(sortedNs, 0.99), pct(sortedNs, 0.999),
                sortedNs[sortedNs.length - 1] / 1e3);
    }
}
