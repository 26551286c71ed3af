package io.slipstream.driver.memory;

import io.slipstream.nic.NicConfig;
import io.slipstream.nic.NicException;
import io.slipstream.time.Clock;
import java.util.HashMap;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A named in-memory cable with two ends, A and B: the first {@code open} of a name (through
 * {@link MemoryDriver}) gets end A, the second end B, and two stacks in one JVM talk over it.
 * When every opened end is closed, the name is free again.
 *
 * <p>The link's impairments are those of its first opener, or of {@link #create} for a link
 * set up ahead (by a test). An opener that sets impairment options must set the same ones, so
 * a half-configured link fails loudly instead of silently ignoring one side's settings.
 *
 * <p>One lock per link serialises everything that crosses it: one end's thread delivering into
 * the other end's rings and event queue, releasing frames in flight, closing. Each end's stack
 * side (posting, polling) works on its own rings without the lock. The lock also guards the
 * per-frame counters of both ends ({@code NicStats.incrementLocked}); the timer and interrupt
 * counters, bumped outside it, stay atomic.
 */
public final class MemoryLink {
    private static final Map<String, MemoryLink> LINKS = new HashMap<>(); // guarded by itself

    private final String name;
    private final Impairments impairments;
    private static final int LOCK_SPINS = 1000;

    private final ReentrantLock lock = new ReentrantLock();
    /** One random stream per direction, split from the seed once, in a fixed order. */
    private final SplittableRandom[] randoms = new SplittableRandom[2];
    private volatile MemoryInterface endA;
    private volatile MemoryInterface endB;
    private int opened; // guarded by LINKS
    private int closed; // guarded by LINKS

    private MemoryLink(String name, Impairments impairments) {
        this.name = name;
        this.impairments = impairments;
        SplittableRandom root = new SplittableRandom(impairments.seed());
        randoms[0] = root.split();
        randoms[1] = root.split();
    }

    /**
     * Sets up the link {@code name} with {@code impairments} before its ends are opened (both
     * opens may then leave the impairment options unset).
     *
     * @throws NicException if a link of that name exists
     */
    public static MemoryLink create(String name, Impairments impairments) {
        if (name == null || name.isEmpty()) {
            throw new NicException(NicException.Kind.INVALID_CONFIG, "memory link: a link name is required");
        }
        synchronized (LINKS) {
            if (LINKS.containsKey(name)) {
                throw new NicException(NicException.Kind.BUSY, "memory link '" + name + "' already exists");
            }
            MemoryLink link = new MemoryLink(name, impairments);
            LINKS.put(name, link);
            return link;
        }
    }

    /** Opens the next free end of the link {@code config.interfaceName()}, creating the link first. */
    static MemoryInterface open(NicConfig config, Clock clock, Impairments requested, boolean impairmentsSet) {
        String name = config.interfaceName();
        synchronized (LINKS) {
            MemoryLink link = LINKS.get(name);
            boolean fresh = link == null;
            if (fresh) {
                link = new MemoryLink(name, requested);
            } else if (impairmentsSet && !link.impairments.equals(requested)) {
                throw new NicException(NicException.Kind.INVALID_CONFIG, "memory link '" + name + "' is already set up with " + link.impairments
                        + "; this end asks for " + requested
                        + ": set the slipstream.memory.* options the same on both ends, or only on the first");
            }
            if (link.opened == 2) {
                throw new NicException(NicException.Kind.BUSY, "memory link '" + name + "' already has two ends"
                        + (link.closed == 0 ? " open" : " (one closed, one still open)")
                        + ": a third stack cannot join; close both ends to reuse the name");
            }
            MemoryInterface end = new MemoryInterface(link, link.opened, config, clock, link.randoms[link.opened]);
            link.lock();
            try {
                if (link.opened == 0) {
                    link.endA = end;
                } else {
                    link.endB = end;
                }
            } finally {
                link.unlock();
            }
            link.opened++;
            if (fresh) {
                LINKS.put(name, link);
            }
            return end;
        }
    }

    public String name() {
        return name;
    }

    public Impairments impairments() {
        return impairments;
    }

    /**
     * The link's critical sections are a few frame copies, far shorter than the microseconds a
     * parked thread takes to wake, so spin briefly before parking.
     */
    void lock() {
        for (int i = 0; i < LOCK_SPINS; i++) {
            if (lock.tryLock()) {
                return;
            }
            Thread.onSpinWait();
        }
        lock.lock();
    }

    void unlock() {
        lock.unlock();
    }

    /** The other end of {@code end}, or null while it is not opened yet. */
    MemoryInterface peerOf(MemoryInterface end) {
        return end == endA ? endB : endA;
    }

    /** The direction that delivers to {@code end}, or null while the other end is not open. */
    LinkDirection inboundOf(MemoryInterface end) {
        MemoryInterface peer = peerOf(end);
        return peer == null ? null : peer.outbound();
    }

    /** Releases the frames whose time has come, in both directions. */
    void releaseDue() {
        MemoryInterface a = endA;
        MemoryInterface b = endB;
        if (a != null) {
            a.outbound().releaseDueNow();
        }
        if (b != null) {
            b.outbound().releaseDueNow();
        }
    }

    /** Nanoseconds until the next frame in flight is due, either way; MAX_VALUE if none. */
    long nanosUntilNextRelease() {
        return Math.min(untilNextRelease(endA), untilNextRelease(endB));
    }

    private static long untilNextRelease(MemoryInterface end) {
        if (end == null) {
            return Long.MAX_VALUE;
        }
        LinkDirection d = end.outbound();
        long next = d.nextRelease();
        return next == InFlightQueue.NONE ? Long.MAX_VALUE : Math.max(0, next - d.clock().nanoTime());
    }

    /** An end closed; once every opened end has, the name is free again. */
    void endClosed() {
        synchronized (LINKS) {
            closed++;
            if (closed == opened && LINKS.get(name) == this) {
                LINKS.remove(name);
            }
        }
    }

    @Override
    public String toString() {
        return "MemoryLink[" + name + ", " + impairments + "]";
    }
}
