package io.slipstream.relay;

import java.util.Locale;

/**
 * What the relay does to the IPv4 frames of one direction, each rate a probability per frame
 * drawn from the relay's seeded generator: lose it, corrupt one byte after the Ethernet header,
 * hold it back behind {@code reorderDepth} later frames, send it twice; and delay every frame by
 * {@code delayNs}. Frames other than IPv4 (ARP) pass unimpaired but delayed alike, so address
 * resolution never adds noise to a measurement. The kernel's netem names the same four impairments.
 */
public record Impairment(double lossRate, double corruptRate, double reorderRate, int reorderDepth,
                         double duplicateRate, long delayNs) {
    /** Frames a reordered one waits behind unless said otherwise: three, enough for a duplicate-ACK threshold. */
    public static final int DEFAULT_REORDER_DEPTH = 3;
    public static final Impairment NONE = new Impairment(0, 0, 0, DEFAULT_REORDER_DEPTH, 0, 0);

    public Impairment {
        rate("loss", lossRate);
        rate("corrupt", corruptRate);
        rate("reorder", reorderRate);
        rate("dup", duplicateRate);
        if (reorderDepth < 1 || reorderDepth > 64) {
            throw new IllegalArgumentException("reorder depth " + reorderDepth + " frames: 1 to 64");
        }
        if (delayNs < 0 || delayNs > 1_000_000_000L) {
            throw new IllegalArgumentException("delay " + delayNs + " ns: 0 to 1 s");
        }
    }

    private static void rate(String what, double rate) {
        if (!(rate >= 0 && rate <= 1)) {
            throw new IllegalArgumentException(what + " rate " + rate + ": 0 to 1");
        }
    }

    public static Impairment loss(double rate) {
        return NONE.withLoss(rate);
    }

    public Impairment withLoss(double rate) {
        return new Impairment(rate, corruptRate, reorderRate, reorderDepth, duplicateRate, delayNs);
    }

    public Impairment withCorruption(double rate) {
        return new Impairment(lossRate, rate, reorderRate, reorderDepth, duplicateRate, delayNs);
    }

    public Impairment withReorder(double rate, int depthFrames) {
        return new Impairment(lossRate, corruptRate, rate, depthFrames, duplicateRate, delayNs);
    }

    public Impairment withDuplication(double rate) {
        return new Impairment(lossRate, corruptRate, reorderRate, reorderDepth, rate, delayNs);
    }

    public Impairment withDelay(long nanos) {
        return new Impairment(lossRate, corruptRate, reorderRate, reorderDepth, duplicateRate, nanos);
    }

    /**
     * Parses {@code none} or comma-separated {@code loss=P}, {@code corrupt=P}, {@code reorder=P},
     * {@code depth=N}, {@code dup=P}, {@code delay=MS} (P a percentage: {@code loss=1} is 1 %).
     */
    public static Impairment parse(String spec) {
        Impairment m = NONE;
        if (spec.isBlank() || spec.equals("none")) {
            return m;
        }
        for (String part : spec.split(",")) {
            String[] kv = part.trim().split("=", 2);
            if (kv.length != 2) {
                throw new IllegalArgumentException("impairment '" + part + "': expected name=value");
            }
            double v = Double.parseDouble(kv[1]);
            m = switch (kv[0]) {
                case "loss" -> m.withLoss(v / 100);
                case "corrupt" -> m.withCorruption(v / 100);
                case "reorder" -> m.withReorder(v / 100, m.reorderDepth);
                case "depth" -> m.withReorder(m.reorderRate, (int) v);
                case "dup" -> m.withDuplication(v / 100);
                case "delay" -> m.withDelay((long) (v * 1_000_000));
                default -> throw new IllegalArgumentException("impairment '" + kv[0]
                        + "': one of loss, corrupt, reorder, depth, dup, delay");
            };
        }
        return m;
    }

    /** The form {@link #parse} reads, leaving out what is off. */
    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder();
        part(sb, "loss", lossRate);
        part(sb, "corrupt", corruptRate);
        if (reorderRate > 0) {
            part(sb, "reorder", reorderRate);
            sb.append(",depth=").append(reorderDepth);
        }
        part(sb, "dup", duplicateRate);
        if (delayNs > 0) {
            sb.append(sb.isEmpty() ? "" : ",").append("delay=").append(String.format(Locale.ROOT, "%g", delayNs / 1e6));
        }
        return sb.isEmpty() ? "none" : sb.toString();
    }

    private static void part(StringBuilder sb, String name, double rate) {
        if (rate > 0) {
            sb.append(sb.isEmpty() ? "" : ",").append(name).append('=')
                    .append(String.format(Locale.ROOT, "%g", rate * 100).replaceAll("\\.?0+$", ""));
        }
    }
}
