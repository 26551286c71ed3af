package io.slipstream.stats;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.function.ToLongFunction;

/**
 * A counter per constant of an enum: drops per reason, events per kind. Increments are plain
 * writes made under the stack lock (nothing on the hot path but an array store); readers on
 * other threads may see a slightly stale value, which is all statistics need.
 */
public final class Counters<E extends Enum<E>> {
    private final E[] keys;
    private final long[] values;

    public Counters(Class<E> type) {
        this.keys = type.getEnumConstants();
        this.values = new long[keys.length];
    }

    public void increment(E counter) {
        values[counter.ordinal()]++;
    }

    public void add(E counter, long n) {
        values[counter.ordinal()] += n;
    }

    public long get(E counter) {
        return values[counter.ordinal()];
    }

    public long total() {
        long t = 0;
        for (long v : values) {
            t += v;
        }
        return t;
    }

    /** The non-zero counters by lower-case name, in declaration order. */
    public Map<String, Long> snapshot() {
        return nonZero(keys, this::get);
    }

    /**
     * The non-zero {@code values} of {@code keys} by lower-case name, in the keys' order: how
     * counters that leave out zeros are shown (stack dumps, logs, {@code toString}).
     */
    public static <E extends Enum<E>> Map<String, Long> nonZero(E[] keys, ToLongFunction<E> values) {
        Map<String, Long> m = new LinkedHashMap<>();
        for (E k : keys) {
            long v = values.applyAsLong(k);
            if (v != 0) {
                m.put(k.name().toLowerCase(Locale.ROOT), v);
            }
        }
        return m;
    }

    @Override
    public String toString() {
        return snapshot().toString();
    }
}
