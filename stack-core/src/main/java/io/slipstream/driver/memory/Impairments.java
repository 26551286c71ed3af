package io.slipstream.driver.memory;

import io.slipstream.config.Setting;
import io.slipstream.config.Settings;
import java.util.List;

/**
 * What an in-memory link does to the frames it carries, the same in both directions. Each
 * direction draws its decisions from its own random stream, both split from {@link #seed()},
 * so the same seed and the same sends give the same drops, duplicates, reorders and
 * corruptions whatever the other direction does.
 *
 * @param loss probability (0..1) that a frame is lost on the wire
 * @param duplicate probability that a frame arrives twice
 * @param reorder probability that a frame is held back and arrives behind the next frame of
 *     its direction (or {@link #REORDER_HOLD_NANOS} late if no frame follows)
 * @param corrupt probability that one random bit of the received copy (the first, if duplicated)
 *     is flipped
 * @param delayNanos one-way delay
 * @param jitterNanos the delay varies uniformly by up to this much either way; frames keep
 *     their order (only {@code reorder} reorders)
 * @param rateMbps serialisation rate in megabits per second; 0 = unlimited
 * @param limit frames in flight per direction, after which the link drops (a bottleneck
 *     queue); 0 = as many as the sender's tx ring holds
 * @param seed the seed of every random decision
 */
public record Impairments(
        double loss,
        double duplicate,
        double reorder,
        double corrupt,
        long delayNanos,
        long jitterNanos,
        double rateMbps,
        int limit,
        long seed) {

    public static final long DEFAULT_SEED = 1;
    private static final long MAX_DELAY_USEC = 60_000_000; // one minute
    private static final double MAX_RATE_MBPS = 1_000_000; // one terabit
    private static final int MAX_LIMIT = 1 << 20;

    public static final Setting.Fraction LOSS = new Setting.Fraction("slipstream.memory.loss", 0, 0, 1, "");
    public static final Setting.Fraction DUPLICATE = new Setting.Fraction("slipstream.memory.duplicate", 0, 0, 1, "");
    public static final Setting.Fraction REORDER = new Setting.Fraction("slipstream.memory.reorder", 0, 0, 1, "");
    public static final Setting.Fraction CORRUPT = new Setting.Fraction("slipstream.memory.corrupt", 0, 0, 1, "");
    public static final Setting.Whole DELAY_USEC = new Setting.Whole("slipstream.memory.delay.usec", 0, 0, MAX_DELAY_USEC, "µs");
    public static final Setting.Whole JITTER_USEC =
            new Setting.Whole("slipstream.memory.jitter.usec", 0, 0, MAX_DELAY_USEC, "µs");
    public static final Setting.Fraction RATE_MBPS =
            new Setting.Fraction("slipstream.memory.rate.mbps", 0, 0, MAX_RATE_MBPS, "Mbit/s");
    public static final Setting.Whole LIMIT = new Setting.Whole("slipstream.memory.limit", 0, 0, MAX_LIMIT, "frames");
    public static final Setting.Whole SEED =
            new Setting.Whole("slipstream.memory.seed", DEFAULT_SEED, Long.MIN_VALUE, Long.MAX_VALUE, "");

    /** Every option above: an opener that sets any of them states the link's impairments. */
    private static final List<Setting> SETTINGS =
            List.of(LOSS, DUPLICATE, REORDER, CORRUPT, DELAY_USEC, JITTER_USEC, RATE_MBPS, LIMIT, SEED);

    /** How long a held-back frame waits for a successor before it is released anyway. */
    public static final long REORDER_HOLD_NANOS = 1_000_000;

    /** A perfect link: no loss, no delay, unlimited rate. */
    public static final Impairments NONE = new Impairments(0, 0, 0, 0, 0, 0, 0, 0, DEFAULT_SEED);

    public Impairments {
        requireProbability("loss", loss);
        requireProbability("duplicate", duplicate);
        requireProbability("reorder", reorder);
        requireProbability("corrupt", corrupt);
        if (delayNanos < 0 || jitterNanos < 0 || delayNanos > MAX_DELAY_USEC * 1000 || jitterNanos > MAX_DELAY_USEC * 1000) {
            throw new IllegalArgumentException("delay and jitter must be 0.." + MAX_DELAY_USEC + " µs, got delay="
                    + delayNanos + " ns, jitter=" + jitterNanos + " ns");
        }
        if (!(rateMbps >= 0 && rateMbps <= MAX_RATE_MBPS)) {
            throw new IllegalArgumentException("rate must be 0.." + MAX_RATE_MBPS + " Mbit/s, got " + rateMbps);
        }
        if (limit < 0 || limit > MAX_LIMIT) {
            throw new IllegalArgumentException("limit must be 0.." + MAX_LIMIT + " frames, got " + limit);
        }
    }

    private static void requireProbability(String what, double p) {
        if (!(p >= 0 && p <= 1)) {
            throw new IllegalArgumentException(what + " probability must be 0..1, got " + p);
        }
    }

    /** Reads the {@code slipstream.memory.*} options; a malformed one is a ConfigException naming it. */
    public static Impairments from(Settings s) {
        return new Impairments(LOSS.read(s), DUPLICATE.read(s), REORDER.read(s), CORRUPT.read(s),
                DELAY_USEC.read(s) * 1000, JITTER_USEC.read(s) * 1000, RATE_MBPS.read(s), LIMIT.readInt(s), SEED.read(s));
    }

    /** Whether {@code s} sets any impairment option. */
    public static boolean anySetIn(Settings s) {
        for (Setting setting : SETTINGS) {
            if (s.has(setting.name())) {
                return true;
            }
        }
        return false;
    }

    public Impairments withLoss(double p) {
        return new Impairments(p, duplicate, reorder, corrupt, delayNanos, jitterNanos, rateMbps, limit, seed);
    }

    public Impairments withDuplicate(double p) {
        return new Impairments(loss, p, reorder, corrupt, delayNanos, jitterNanos, rateMbps, limit, seed);
    }

    public Impairments withReorder(double p) {
        return new Impairments(loss, duplicate, p, corrupt, delayNanos, jitterNanos, rateMbps, limit, seed);
    }

    public Impairments withCorrupt(double p) {
        return new Impairments(loss, duplicate, reorder, p, delayNanos, jitterNanos, rateMbps, limit, seed);
    }

    public Impairments withDelay(long nanos) {
        return new Impairments(loss, duplicate, reorder, corrupt, nanos, jitterNanos, rateMbps, limit, seed);
    }

    public Impairments withJitter(long nanos) {
        return new Impairments(loss, duplicate, reorder, corrupt, delayNanos, nanos, rateMbps, limit, seed);
    }

    public Impairments withRate(double mbps) {
        return new Impairments(loss, duplicate, reorder, corrupt, delayNanos, jitterNanos, mbps, limit, seed);
    }

    public Impairments withLimit(int frames) {
        return new Impairments(loss, duplicate, reorder, corrupt, delayNanos, jitterNanos, rateMbps, frames, seed);
    }

    public Impairments withSeed(long s) {
        return new Impairments(loss, duplicate, reorder, corrupt, delayNanos, jitterNanos, rateMbps, limit, s);
    }

    /** Nanoseconds the wire is busy sending {@code bytes}; 0 when the rate is unlimited. */
    long serialisationNanos(int bytes) {
        return rateMbps == 0 ? 0 : (long) Math.ceil(bytes * 8_000.0 / rateMbps);
    }
}
