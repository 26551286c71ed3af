package io.slipstream.nic;

import io.slipstream.buffer.BufferOwner;
import io.slipstream.buffer.BufferPool;

/**
 * What every driver's {@link VirtualInterface} holds the same way: its identity (name, MAC,
 * MTU), the owner of the buffers the stack holds, its counters, and the parts the stack drives
 * (buffer pool, rings, event queue, timer, interrupt). A driver supplies the parts and close.
 *
 * <p>A driver's constructor calls {@link #attach} once, last: its rings and event queue are
 * usually its inner classes, which cannot be made before this constructor has run, and the
 * pool is allocated last so that nothing can fail after it. The parts are not final for that
 * reason only; they are written before the interface is handed to a stack, which publishes it
 * to the threads that use it.
 */
public abstract class AbstractVirtualInterface implements VirtualInterface {
    private final String name;
    private final long mac;
    private final int mtu;
    private final BufferOwner stackOwner;
    /** The driver's counters: plain increments by the stack side, {@code *Locked} ones elsewhere. */
    protected final NicStats stats = new NicStats();

    // -- written once, by the driver's constructor (attach)
    private BufferPool pool;
    private RxRing rx;
    private TxRing tx;
    private EventQueue events;
    private NicTimer timer;
    private Interrupt interrupt;

    /**
     * @param label names the interface in buffer owners and errors ("tap tap0", "memory link 'l' end A")
     * @param mtu the largest IP datagram the link carries
     */
    protected AbstractVirtualInterface(String label, String name, long mac, int mtu) {
        this.name = name;
        this.mac = mac;
        this.mtu = mtu;
        this.stackOwner = new BufferOwner(label + " stack");
    }

    /** Hands over the parts the stack drives; once, at the end of the driver's constructor. */
    protected final void attach(BufferPool pool, RxRing rx, TxRing tx, EventQueue events, NicTimer timer,
                                Interrupt interrupt) {
        if (this.pool != null) {
            throw new IllegalStateException(name + ": parts attached twice");
        }
        this.pool = pool;
        this.rx = rx;
        this.tx = tx;
        this.events = events;
        this.timer = timer;
        this.interrupt = interrupt;
    }

    @Override
    public final String name() {
        return name;
    }

    @Override
    public final long mac() {
        return mac;
    }

    @Override
    public final int mtu() {
        return mtu;
    }

    @Override
    public final BufferPool buffers() {
        return pool;
    }

    @Override
    public final BufferOwner stackOwner() {
        return stackOwner;
    }

    @Override
    public final RxRing rx() {
        return rx;
    }

    @Override
    public final TxRing tx() {
        return tx;
    }

    @Override
    public final EventQueue events() {
        return events;
    }

    @Override
    public final NicTimer timer() {
        return timer;
    }

    @Override
    public final Interrupt interrupt() {
        return interrupt;
    }

    /** The counters; a driver that keeps some elsewhere (in the kernel) brings them up to date first. */
    @Override
    public NicStats stats() {
        return stats;
    }
}
