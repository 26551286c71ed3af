package io.slipstream.nic;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLongArray;

/** Driver counters, safe to bump from the NIC side and read from anywhere. */
public final class NicStats {
    private final AtomicLongArray counts = new AtomicLongArray(NicCounter.values().length);

    public void increment(NicCounter c) {
        counts.getAndIncrement(c.ordinal());
    }

    public void add(NicCounter c, long n) {
        counts.getAndAdd(c.ordinal(), n);
    }

    public long get(NicCounter c) {
        return counts.get(c.ordinal());
    }

    /** The non-zero counters by lower-case name. */
    public Map<String, Long> snapshot() {
        Map<String, Long> m = new LinkedHashMap<>();
        for (NicCounter c : NicCounter.values()) {
            long v = get(c);
            if (v != 0) {
                m.put(c.name().toLowerCase(Locale.ROOT), v);
            }
        }
        return m;
    }

    @Override
    public String toString() {
        return snapshot().toString();
    }
}
