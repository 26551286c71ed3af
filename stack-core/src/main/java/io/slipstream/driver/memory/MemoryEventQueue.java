package io.slipstream.driver.memory;

import io.slipstream.buffer.BufferOwner;
import io.slipstream.buffer.PacketBuffer;
import io.slipstream.nic.EventHandler;
import io.slipstream.nic.EventQueue;
import io.slipstream.nic.NicCounter;
import io.slipstream.nic.SoftwareNicTimer;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One end's event queue. RX and TX_COMPLETE events carry a buffer of this end's pool, so the
 * queue, sized to the pool, can never overflow; the link adds them under its lock from any
 * thread, the stack's thread takes them. TIMER comes from the software timer when polled;
 * WAKEUPs are counted as the interrupt fires.
 */
final class MemoryEventQueue implements EventQueue {
    static final byte RX = 0;
    static final byte TX_COMPLETE = 1;

    private final MemoryInterface vi;
    private final SoftwareNicTimer timer;
    private final BufferOwner owner;
    private final HandoffRing ring;
    private final AtomicInteger wakeups = new AtomicInteger();

    MemoryEventQueue(MemoryInterface vi, SoftwareNicTimer timer, int bufferCount) {
        this.vi = vi;
        this.timer = timer;
        this.owner = new BufferOwner(vi.label() + " event queue");
        this.ring = new HandoffRing(bufferCount);
    }

    BufferOwner owner() {
        return owner;
    }

    /** Queues an event whose buffer this queue's owner already holds. Under the link lock. */
    void add(byte kind, PacketBuffer b) {
        if (!ring.offer(b, kind)) {
            // Each queued buffer is a distinct buffer of the pool, and the ring holds the pool.
            throw new IllegalStateException(vi.label() + ": event queue overflow holding " + b);
        }
    }

    void addWakeup() {
        wakeups.incrementAndGet();
    }

    /** An event is queued, without releasing frames in flight or looking at the timer. */
    boolean hasQueued() {
        return wakeups.get() > 0 || !ring.isEmpty();
    }

    @Override
    public int poll(EventHandler handler, int limit) {
        if (vi.isClosed()) {
            return 0;
        }
        vi.link().releaseDue();
        int n = 0;
        while (n < limit && wakeups.get() > 0) {
            wakeups.decrementAndGet(); // only this thread takes, so it stays >= 0
            n++;
            handler.onWakeup();
        }
        if (n < limit && timer.expire(vi.clock().nanoTime())) {
            vi.stats().increment(NicCounter.TIMER_EVENTS);
            n++;
            handler.onTimer();
        }
        while (n < limit && !vi.isClosed()) {
            int kind = ring.peekKind();
            if (kind < 0) {
                break;
            }
            PacketBuffer b = ring.poll();
            b.transfer(owner, vi.stackOwner());
            n++;
            if (kind == RX) {
                handler.onRx(b);
            } else {
                handler.onTxComplete(b);
            }
        }
        return n;
    }

    @Override
    public boolean hasEvents() {
        if (vi.isClosed()) {
            return false;
        }
        vi.link().releaseDue();
        return hasQueued() || timer.remaining(vi.clock().nanoTime()) == 0;
    }

    /** Drops every queued event, returning its buffer to the pool. Closing only. */
    void releaseAll() {
        PacketBuffer b;
        while ((b = ring.poll()) != null) {
            b.release(owner);
        }
        wakeups.set(0);
    }
}
