package io.slipstream.driver.memory;

import io.slipstream.buffer.BufferPool;
import io.slipstream.buffer.PacketBuffer;
import io.slipstream.nic.AbstractVirtualInterface;
import io.slipstream.nic.NicConfig;
import io.slipstream.nic.NicCounter;
import io.slipstream.nic.SoftwareNicTimer;
import io.slipstream.time.Clock;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;

/**
 * One end of a {@link MemoryLink}: its own buffer pool, rings, event queue, timer and
 * interrupt. A frame sent from here is copied ("DMA") into a buffer the other end posted.
 *
 * <p>Buffer hand-overs: stack → rx ring → event queue → stack for received frames; stack →
 * tx ring (waiting, then in flight on the wire) → event queue → stack for sent ones.
 */
final class MemoryInterface extends AbstractVirtualInterface {
    /** Destination MAC, source MAC, EtherType and a VLAN tag or FCS around the IP datagram. */
    private static final int FRAME_OVERHEAD = 18;

    private final MemoryLink link;
    private final Clock clock;
    private final String label;
    private final MemoryRxRing rx;
    private final MemoryTxRing tx;
    private final MemoryEventQueue events;
    private final MemoryInterrupt interrupt;
    private final LinkDirection outbound;
    private volatile boolean closed;

    MemoryInterface(MemoryLink link, int side, NicConfig config, Clock clock, SplittableRandom random) {
        String label = "memory link '" + link.name() + "' end " + (side == 0 ? 'A' : 'B');
        super(label, config.interfaceName(), config.mac(), config.mtu());
        this.link = link;
        this.clock = clock;
        this.label = label;
        SoftwareNicTimer timer = new SoftwareNicTimer();
        this.rx = new MemoryRxRing(this, config.rxRingSize());
        this.tx = new MemoryTxRing(this, config.txRingSize());
        this.events = new MemoryEventQueue(this, timer, config.bufferCount());
        this.interrupt = new MemoryInterrupt(this, events, timer);
        this.outbound = new LinkDirection(link, this, random, config.txRingSize());
        attach(BufferPool.allocate(config.bufferCount(), config.frameSize()), rx, tx, events, timer, interrupt);
    }

    String label() {
        return label;
    }

    MemoryLink link() {
        return link;
    }

    Clock clock() {
        return clock;
    }

    LinkDirection outbound() {
        return outbound;
    }

    boolean isClosed() {
        return closed;
    }

    void checkOpen() {
        if (closed) {
            throw new IllegalStateException(label + " is closed");
        }
    }

    /** A buffer handed to a ring must be open, ours, and (checked on transfer) the stack's. */
    void checkPostable(PacketBuffer b) {
        checkOpen();
        if (b.pool() != buffers()) {
            throw new IllegalArgumentException(label + ": buffer " + b.index() + " belongs to another pool");
        }
    }

    /** Doorbell: every waiting frame goes on the wire now. Stack thread. */
    void transmitWaiting() {
        link.lock();
        try {
            long now = clock.nanoTime();
            int maxFrame = mtu() + FRAME_OVERHEAD;
            PacketBuffer frame;
            while ((frame = tx.nextWaiting()) != null) {
                if (frame.length() == 0 || frame.length() > maxFrame) {
                    stats.incrementLocked(NicCounter.TX_ERRORS); // refused, like a NIC rejecting a descriptor
                    complete(frame);
                } else {
                    outbound.transmit(frame, now);
                }
            }
            outbound.releaseDue(now);
        } finally {
            link.unlock();
        }
    }

    /**
     * A frame from the other end arrives: copy it into a posted buffer and queue an RX event,
     * or count why not. {@code corruptBit} >= 0 flips that bit of the copy. Under the link lock.
     */
    void receive(PacketBuffer frame, int corruptBit) {
        int length = frame.length();
        if (length > mtu() + FRAME_OVERHEAD || length > buffers().frameSize()) {
            stats.incrementLocked(NicCounter.RX_OVERSIZE);
            return;
        }
        PacketBuffer b = rx.take();
        if (b == null) {
            stats.incrementLocked(NicCounter.RX_NO_BUFFER);
            return;
        }
        MemorySegment copy = b.segment();
        MemorySegment.copy(frame.segment(), frame.offset(), copy, 0, length);
        if (corruptBit >= 0) {
            long at = corruptBit >>> 3;
            byte v = copy.get(ValueLayout.JAVA_BYTE, at);
            copy.set(ValueLayout.JAVA_BYTE, at, (byte) (v ^ (1 << (corruptBit & 7))));
        }
        b.setRange(0, length);
        b.transfer(rx.owner(), events.owner());
        events.add(MemoryEventQueue.RX, b);
        stats.incrementLocked(NicCounter.RX_FRAMES);
        stats.addLocked(NicCounter.RX_BYTES, length);
        interrupt.eventArrived();
    }

    /** A frame of ours is off the wire: its buffer comes back in a TX_COMPLETE. Under the link lock. */
    void complete(PacketBuffer frame) {
        frame.transfer(tx.owner(), events.owner());
        tx.completedOne();
        events.add(MemoryEventQueue.TX_COMPLETE, frame);
        interrupt.eventArrived();
    }

    /** A frame of ours will never be completed (we are closing): back to the pool. */
    void releaseTxBuffer(PacketBuffer frame) {
        frame.release(tx.owner());
    }

    /**
     * Stops delivery, drops what is in flight either way, returns every buffer held by the
     * rings, the event queue and the wire to the pool, and frees the pool. Buffers the stack
     * itself still holds are the stack's to release first.
     */
    @Override
    public void close() {
        link.lock();
        try {
            if (closed) {
                return;
            }
            closed = true;
            outbound.releaseAllToPool();
            LinkDirection inbound = link.inboundOf(this);
            if (inbound != null) {
                inbound.dropAll();
            }
            PacketBuffer b;
            while ((b = tx.nextWaiting()) != null) {
                b.release(tx.owner());
            }
            while ((b = rx.take()) != null) {
                b.release(rx.owner());
            }
            events.releaseAll();
        } finally {
            link.unlock();
        }
        interrupt.wake();
        buffers().close();
        link.endClosed();
    }

    @Override
    public String toString() {
        return label + " " + stats;
    }
}
