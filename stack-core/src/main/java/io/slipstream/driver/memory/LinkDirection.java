package io.slipstream.driver.memory;

import io.slipstream.buffer.PacketBuffer;
import io.slipstream.concurrent.VarHandles;
import io.slipstream.nic.NicCounter;
import io.slipstream.nic.NicStats;
import io.slipstream.time.Clock;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.SplittableRandom;

/**
 * One direction of a memory link: the wire from one end's tx ring to the other end's rx ring.
 * It applies the link's {@link Impairments} with its own random stream and holds the frames
 * in flight (the sender's buffers, as a real NIC keeps a tx descriptor until the frame is
 * out) until their release time on the sender's clock. Everything but {@link #nextRelease()}
 * runs under the link lock.
 */
final class LinkDirection {
    private static final VarHandle NEXT_RELEASE = VarHandles.field(MethodHandles.lookup(), "nextRelease", long.class);

    private final MemoryLink link;
    private final MemoryInterface from;
    private final Impairments impairments;
    private final SplittableRandom random;
    private final Clock clock;
    private final NicStats stats;
    private final InFlightQueue inFlight;
    private final int limit;
    /** When the wire finishes serialising the last frame given to it. */
    private long busyUntil;
    /** Release time of the last frame queued in order; later frames never overtake it. */
    private long lastRelease;

    // The frame held back for reordering, if any (at most one at a time).
    private PacketBuffer held;
    private long heldRelease;
    private int heldCopies;
    private int heldBit;
    private long heldDeadline;

    @SuppressWarnings("unused") // accessed through NEXT_RELEASE
    private long nextRelease = InFlightQueue.NONE;

    LinkDirection(MemoryLink link, MemoryInterface from, SplittableRandom random, int txCapacity) {
        this.link = link;
        this.from = from;
        this.impairments = link.impairments();
        this.random = random;
        this.clock = from.clock();
        this.stats = from.stats();
        this.inFlight = new InFlightQueue(txCapacity);
        this.limit = impairments.limit() == 0 ? txCapacity : Math.min(impairments.limit(), txCapacity);
        this.busyUntil = clock.nanoTime();
        this.lastRelease = busyUntil;
    }

    /** Release time of the next frame, or {@link InFlightQueue#NONE}; readable without the lock. */
    long nextRelease() {
        return (long) NEXT_RELEASE.getAcquire(this);
    }

    Clock clock() {
        return clock;
    }

    /** Releases what is due now, taking the lock only when something is. */
    void releaseDueNow() {
        long next = nextRelease();
        if (next == InFlightQueue.NONE) {
            return;
        }
        long now = clock.nanoTime();
        if (now - next < 0) {
            return;
        }
        link.lock();
        try {
            releaseDue(now);
        } finally {
            link.unlock();
        }
    }

    /**
     * Puts one frame (owned by the sender's tx ring) on the wire at {@code now}: draws its fate,
     * then either completes it at once (lost, or no room in flight) or queues it for release.
     * The same number of draws is made for every frame, so one frame's fate never shifts the
     * random stream of the next. The caller follows with {@link #releaseDue}, which delivers
     * what is due at once and publishes the next release time.
     */
    void transmit(PacketBuffer frame, long now) {
        double lossDraw = random.nextDouble();
        double duplicateDraw = random.nextDouble();
        double reorderDraw = random.nextDouble();
        double corruptDraw = random.nextDouble();
        long bitDraw = random.nextLong();
        double jitterDraw = random.nextDouble();

        expireHeld(now);
        int length = frame.length();
        stats.incrementLocked(NicCounter.TX_FRAMES);
        stats.addLocked(NicCounter.TX_BYTES, length);

        if (inFlightCount() >= limit) {
            drop(frame); // tail drop: the bottleneck queue is full, the frame never reaches the wire
            return;
        }
        // The wire serialises frames one after another at the configured rate; a lost frame
        // still used its slot on the wire.
        long start = busyUntil - now > 0 ? busyUntil : now;
        busyUntil = start + impairments.serialisationNanos(length);
        if (lossDraw < impairments.loss()) {
            drop(frame);
            return;
        }
        long jitter = impairments.jitterNanos() == 0 ? 0
                : (long) ((jitterDraw * 2 - 1) * impairments.jitterNanos());
        long release = busyUntil + Math.max(0, impairments.delayNanos() + jitter);
        if (release - lastRelease < 0) {
            release = lastRelease; // jitter varies the delay but keeps the order
        }
        lastRelease = release;
        int copies = 1;
        if (duplicateDraw < impairments.duplicate()) {
            copies = 2;
            stats.incrementLocked(NicCounter.LINK_DUPLICATES);
        }
        int bit = -1;
        if (corruptDraw < impairments.corrupt()) {
            bit = (int) Math.floorMod(bitDraw, (long) length * 8);
            stats.incrementLocked(NicCounter.LINK_CORRUPTIONS);
        }

        if (held != null) {
            // The held frame goes right behind this one: the reorder happens.
            inFlight.add(frame, release, copies, bit);
            inFlight.add(held, release - heldRelease > 0 ? release : heldRelease, heldCopies, heldBit);
            held = null;
            stats.incrementLocked(NicCounter.LINK_REORDERS);
        } else if (reorderDraw < impairments.reorder()) {
            held = frame;
            heldRelease = release;
            heldCopies = copies;
            heldBit = bit;
            heldDeadline = release + Impairments.REORDER_HOLD_NANOS;
        } else {
            inFlight.add(frame, release, copies, bit);
        }
        // Not published here: releaseDue follows at once, and a release time shown for that
        // moment would only send the other end's poller to wait on the link lock.
    }

    private int inFlightCount() {
        return inFlight.size() + (held == null ? 0 : 1);
    }

    /** A held frame that no successor overtook in time goes out late, not reordered. */
    private void expireHeld(long now) {
        if (held != null && now - heldDeadline >= 0) {
            inFlight.add(held, heldDeadline, heldCopies, heldBit);
            held = null;
        }
    }

    /** Delivers every frame whose release time has come, in release order. */
    void releaseDue(long now) {
        expireHeld(now);
        while (inFlight.size() > 0 && now - inFlight.firstRelease() >= 0) {
            int slot = inFlight.takeFirst();
            PacketBuffer frame = inFlight.frame(slot);
            int copies = inFlight.copies(slot);
            int bit = inFlight.corruptBit(slot);
            inFlight.free(slot);
            deliver(frame, copies, bit);
        }
        publishNextRelease();
    }

    private void deliver(PacketBuffer frame, int copies, int bit) {
        MemoryInterface to = link.peerOf(from);
        for (int c = 0; c < copies; c++) {
            if (to == null || to.isClosed()) {
                stats.incrementLocked(NicCounter.LINK_DROPS); // nobody at the other end of the cable
            } else {
                to.receive(frame, c == 0 ? bit : -1);
            }
        }
        from.complete(frame);
    }

    /** The sender closes: its frames in flight go back to its pool, undelivered. */
    void releaseAllToPool() {
        if (held != null) {
            from.releaseTxBuffer(held);
            held = null;
        }
        while (inFlight.size() > 0) {
            int slot = inFlight.takeFirst();
            PacketBuffer frame = inFlight.frame(slot);
            inFlight.free(slot);
            from.releaseTxBuffer(frame);
        }
        publishNextRelease();
    }

    /** The receiver closes: frames in flight to it are dropped and their buffers completed. */
    void dropAll() {
        if (held != null) {
            inFlight.add(held, heldRelease, heldCopies, heldBit);
            held = null;
        }
        while (inFlight.size() > 0) {
            int slot = inFlight.takeFirst();
            PacketBuffer frame = inFlight.frame(slot);
            inFlight.free(slot);
            drop(frame);
        }
        publishNextRelease();
    }

    private void drop(PacketBuffer frame) {
        stats.incrementLocked(NicCounter.LINK_DROPS);
        from.complete(frame);
    }

    private void publishNextRelease() {
        long next = inFlight.firstRelease();
        if (held != null && (next == InFlightQueue.NONE || heldDeadline - next < 0)) {
            next = heldDeadline;
        }
        // Polled on every pass of the other end's stack: write only a change, or each frame
        // would pull the line away from the poller and back.
        if (next != (long) NEXT_RELEASE.getOpaque(this)) {
            NEXT_RELEASE.setRelease(this, next);
        }
    }
}
