package io.slipstream.stack;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * The runtime's counters. Atomic, unlike the layers' counters: many of them are bumped by
 * threads that do not hold the stack lock (a thread that found it busy, the interrupt thread).
 */
public final class RuntimeCounters {
    private static final RuntimeCounter[] KEYS = RuntimeCounter.values();
    private final AtomicLongArray values = new AtomicLongArray(KEYS.length);

    void increment(RuntimeCounter c) {
        values.getAndIncrement(c.ordinal());
    }

    /**
     * Adds one to a counter only ever written under the stack lock (no locked instruction on
     * the per-pass path); such a counter is never given to {@link #increment}.
     */
    void incrementLocked(RuntimeCounter c) {
        int i = c.ordinal();
        values.setRelease(i, values.getPlain(i) + 1);
    }

    void add(RuntimeCounter c, long n) {
        values.getAndAdd(c.ordinal(), n);
    }

    public long get(RuntimeCounter c) {
        return values.get(c.ordinal());
    }

    /** Every counter by lower-case name, zeros included (a zero is information here). */
    public Map<String, Long> snapshot() {
        Map<String, Long> m = new LinkedHashMap<>();
        for (RuntimeCounter c : KEYS) {
            m.put(c.name().toLowerCase(Locale.ROOT), get(c));
        }
        return m;
    }

    @Override
    public String toString() {
        return snapshot().toString();
    }
}
