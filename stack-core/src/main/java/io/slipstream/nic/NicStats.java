package io.slipstream.nic;

import io.slipstream.stats.Counters;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * Driver counters, readable from anywhere. Each counter is written one way only: with
 * {@link #increment}/{@link #add} (atomic) when its writers share no lock, or with
 * {@link #incrementLocked}/{@link #addLocked} when every writer of that counter holds one lock
 * (a driver's ring or link lock). The per-frame counters are of the second kind: an atomic
 * add right after a frame copy waits for the copy's stores to drain, which a profile of the
 * 64-byte round trip showed costing as much as the clock readings did.
 */
public final class NicStats {
    private final AtomicLongArray counts = new AtomicLongArray(NicCounter.values().length);

    public void increment(NicCounter c) {
        counts.getAndIncrement(c.ordinal());
    }

    public void add(NicCounter c, long n) {
        counts.getAndAdd(c.ordinal(), n);
    }

    /** Adds one to a counter whose every writer holds the same lock. */
    public void incrementLocked(NicCounter c) {
        addLocked(c, 1);
    }

    /** Adds {@code n} to a counter whose every writer holds the same lock. */
    public void addLocked(NicCounter c, long n) {
        int i = c.ordinal();
        counts.setRelease(i, counts.getPlain(i) + n); // the lock orders the writers; readers see whole values
    }

    public long get(NicCounter c) {
        return counts.get(c.ordinal());
    }

    /** The non-zero counters by lower-case name. */
    public Map<String, Long> snapshot() {
        return Counters.nonZero(NicCounter.values(), this::get);
    }

    @Override
    public String toString() {
        return snapshot().toString();
    }
}
