package io.slipstream.stack;

import io.slipstream.config.Setting;
import io.slipstream.config.Settings;

/**
 * The runtime's settings (docs/CONFIGURATION.md, "Runtime"). Durations are real time
 * ({@link System#nanoTime()}), whatever clock drives the protocol timers: spinning, parking
 * and stall detection happen in the real world even when a test runs TCP on a virtual clock.
 *
 * @param spinNanos busy-poll time of a blocking call before it parks; 0 never spins, -1 spins forever
 * @param pollRate packets per second above which blocked threads stay in polling mode
 * @param stallNanos events unpolled this long make the interrupt thread process the stack
 * @param latencyNanos least time between two interrupt-thread passes while application threads are active
 * @param overflowNanos longest time the interrupt thread leaves events unprocessed while
 *     application threads are inactive: the rx ring must not fill in that time
 * @param exitLingerNanos how long JVM shutdown waits for connections to deliver their data
 * @param exitCounters whether the stack prints its non-zero counters to standard error at JVM
 *     shutdown (after the drain), so a program run through the launcher can be looked into
 * @param interruptThread whether the stack starts its interrupt thread (tests that drive the
 *     interrupt service by hand turn it off)
 * @param pollBatch events handled per poll pass of a socket operation
 */
public record RuntimeConfig(
        long spinNanos,
        long pollRate,
        long stallNanos,
        long latencyNanos,
        long overflowNanos,
        long exitLingerNanos,
        boolean exitCounters,
        boolean interruptThread,
        int pollBatch) {

    public static final Setting.Whole POLL_USEC = new Setting.Whole("slipstream.poll.usec", 50, -1, 60_000_000, "µs");
    public static final Setting.Whole LINK_MBPS = new Setting.Whole("slipstream.link.mbps", 1000, 1, 1_000_000, "Mbit/s");
    public static final Setting.Whole POLL_RATE =
            new Setting.Whole("slipstream.poll.rate", 100_000, 1, Long.MAX_VALUE / 2, "packets/s");
    public static final Setting.Whole STALL_USEC = new Setting.Whole("slipstream.stall.usec", 1000, 1, 60_000_000, "µs");
    public static final Setting.Whole INTERRUPT_LATENCY_USEC =
            new Setting.Whole("slipstream.interrupt.latency.usec", 20, 0, 60_000_000, "µs");
    /** Its default is computed from the ring, the MTU and the link rate (see {@link #from}). */
    public static final Setting.Whole INTERRUPT_OVERFLOW_USEC =
            new Setting.Whole("slipstream.interrupt.overflow.usec", 1, 1, 60_000_000, "µs");
    public static final Setting.Whole EXIT_LINGER_MS = new Setting.Whole("slipstream.exit.linger.ms", 30_000, 0, 3_600_000, "ms");
    public static final Setting.Flag EXIT_COUNTERS = new Setting.Flag("slipstream.exit.counters", false);
    public static final Setting.Flag INTERRUPT_THREAD = new Setting.Flag("slipstream.interrupt.thread", true);
    public static final Setting.Whole POLL_BATCH =
            new Setting.Whole("slipstream.poll.batch", Stack.DEFAULT_POLL_BUDGET, 1, 1 << 16, "events");

    /** Bits of one MTU-sized frame on the wire: preamble, header, FCS and inter-frame gap. */
    private static final long WIRE_OVERHEAD_BYTES = 38;

    public static RuntimeConfig from(Settings s, int rxRingSize, int mtu) {
        long pollUsec = POLL_USEC.read(s);
        long linkMbps = LINK_MBPS.read(s);
        // Intel's overflow interval: the time in which half the rx ring fills with MTU-sized
        // frames at line rate, so the interrupt thread always gets there before the ring is full.
        long defaultOverflowUsec = Math.max(1, (rxRingSize / 2L) * (mtu + WIRE_OVERHEAD_BYTES) * 8L / linkMbps);
        return new RuntimeConfig(
                pollUsec < 0 ? -1 : pollUsec * 1000,
                POLL_RATE.read(s),
                STALL_USEC.read(s) * 1000,
                INTERRUPT_LATENCY_USEC.read(s) * 1000,
                INTERRUPT_OVERFLOW_USEC.read(s, defaultOverflowUsec) * 1000,
                EXIT_LINGER_MS.read(s) * 1_000_000,
                EXIT_COUNTERS.read(s),
                INTERRUPT_THREAD.read(s),
                POLL_BATCH.readInt(s));
    }

    /** Events waiting unpolled this long are rescued: the stall interval, capped by the overflow interval. */
    public long rescueNanos() {
        return Math.min(stallNanos, overflowNanos);
    }
}
