package io.slipstream.nic;

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

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("{");
        for (NicCounter c : NicCounter.values()) {
            long v = get(c);
            if (v != 0) {
                if (sb.length() > 1) {
                    sb.append(", ");
                }
                sb.append(c.name().toLowerCase()).append('=').append(v);
            }
        }
        return sb.append('}').toString();
    }
}
