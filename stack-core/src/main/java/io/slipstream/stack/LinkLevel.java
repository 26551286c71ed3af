package io.slipstream.stack;

import io.slipstream.buffer.BufferOwner;
import io.slipstream.buffer.BufferPool;
import io.slipstream.buffer.PacketBuffer;
import io.slipstream.ip.Ipv4Layer;
import io.slipstream.ip.LinkOutput;
import io.slipstream.nic.EventHandler;
import io.slipstream.nic.NicTimer;
import io.slipstream.nic.VirtualInterface;
import io.slipstream.stats.Counters;
import io.slipstream.time.Timers;
import io.slipstream.wire.Arp;
import io.slipstream.wire.Ethernet;
import io.slipstream.wire.MacAddress;
import io.slipstream.wire.WireError;
import java.lang.foreign.MemorySegment;

/**
 * The stack's link level, between the NIC and IP: handles the NIC's events (the Ethernet demux
 * of received frames, transmit completions, the NIC timer), transmits (padding, the loopback
 * queue for frames to our own MAC, the tx ring and the backlog behind it, the doorbell) and
 * keeps the rx ring full. Everything here runs under the stack lock; the runtime decides when.
 */
final class LinkLevel implements LinkOutput, EventHandler {
    /** Frames waiting for room on the tx ring; beyond that they are dropped and counted. */
    private static final int TX_BACKLOG_FRAMES = 1024;
    private static final int LOOPBACK_QUEUE_FRAMES = 256;
    private static final MemorySegment ZEROS = MemorySegment.ofArray(new byte[Ethernet.MIN_FRAME_LENGTH]);

    private final VirtualInterface nic;
    private final BufferPool frames;
    /** The stack's side of the NIC's buffers (rx and tx rings, the tx backlog). */
    private final BufferOwner owner;
    private final BufferOwner loopbackOwner = new BufferOwner("loopback");
    private final long mac;
    private final Timers timers;
    private final Counters<StackCounter> counters;
    private final Counters<WireError> wireErrors;
    /** Set once by the stack's assembly (IP is built on this link), before the stack is shared. */
    private Ipv4Layer ip;

    // Guarded by the stack lock, as is everything below.
    private final PacketBuffer[] txBacklog = new PacketBuffer[TX_BACKLOG_FRAMES];
    private int txBacklogHead;
    private int txBacklogCount;
    private final PacketBuffer[] loopback = new PacketBuffer[LOOPBACK_QUEUE_FRAMES];
    private int loopbackHead;
    private int loopbackCount;
    /**
     * Brackets under way that will ring the doorbell at their end (a poll pass, an
     * application's enter/exit): while above zero, frames sent share that one doorbell.
     */
    private int doorbellBatches;
    /** Frames were posted since the last doorbell. */
    private boolean txPending;
    /** The deadline the NIC timer is armed at (stack clock), or {@link NicTimer#DISARMED}. */
    private long armedDeadlineNanos = NicTimer.DISARMED;
    /** Rx buffers lent to the NIC and not yet back in an RX event (see {@link #refillRx()}). */
    private int rxLent;
    /** Written under the stack lock; read by anyone (the stack dump). */
    private volatile RuntimeException firstInternalError;

    LinkLevel(VirtualInterface nic, Timers timers, Counters<StackCounter> counters, Counters<WireError> wireErrors) {
        this.nic = nic;
        this.frames = nic.buffers();
        this.owner = nic.stackOwner();
        this.mac = nic.mac();
        this.timers = timers;
        this.counters = counters;
        this.wireErrors = wireErrors;
    }

    /** The layer above: received IPv4 goes there, ARP to its table. */
    void upper(Ipv4Layer ip) {
        this.ip = ip;
    }

    @Override
    public long mac() {
        return mac;
    }

    // ---------------------------------------------------------------- receive

    /** Handles up to {@code budget} NIC events; returns how many there were. */
    int pollEvents(int budget) {
        int n;
        ip.receiveBatch(true); // answers to what the pass receives may wait for its end
        try {
            n = nic.events().poll(this, budget);
        } finally {
            ip.receiveBatch(false);
        }
        counters.add(StackCounter.EVENTS, n);
        return n;
    }

    @Override
    public void onRx(PacketBuffer frame) {
        rxLent--;
        receiveFrame(frame, owner);
    }

    @Override
    public void onTxComplete(PacketBuffer frame) {
        frame.release(owner);
        drainTxBacklog();
    }

    @Override
    public void onTimer() {
        counters.increment(StackCounter.TIMER_EVENTS);
        armedDeadlineNanos = NicTimer.DISARMED; // the NIC timer is one-shot
        timers.expire();
    }

    @Override
    public void onWakeup() {
        counters.increment(StackCounter.WAKEUP_EVENTS);
    }

    /**
     * Keeps the rx ring full. The stack counts the buffers it has lent the ring (posted, not yet
     * back in an RX event) itself: reading the ring's own count would touch memory the NIC side
     * keeps writing, on every poll of a busy-polling thread.
     */
    void refillRx() {
        int capacity = nic.rx().capacity();
        while (rxLent < capacity) {
            PacketBuffer b = frames.acquire(owner);
            if (b == null) {
                counters.increment(StackCounter.RX_REFILL_SHORTAGE);
                return;
            }
            b.setRange(0, b.capacity());
            if (!nic.rx().post(b)) {
                b.release(owner);
                rxLent = nic.rx().posted(); // out of step with the ring: take its word
                return;
            }
            rxLent++;
        }
    }

    /** Ethernet demux of one received frame; the frame is released unless a layer kept it. */
    private void receiveFrame(PacketBuffer frame, BufferOwner frameOwner) {
        boolean kept = false;
        try {
            kept = demux(frame, frameOwner);
        } catch (RuntimeException e) {
            // A bug, not bad input (bad input is dropped and counted by each layer): keep the
            // application alive, count it and keep the first for the stack dump.
            internalError(e);
        }
        if (!kept && frame.owner() == frameOwner) {
            frame.release(frameOwner);
        }
    }

    private boolean demux(PacketBuffer frame, BufferOwner frameOwner) {
        counters.increment(StackCounter.RX_FRAMES);
        MemorySegment s = frame.segment();
        long off = frame.offset();
        int hl = Ethernet.headerLength(s, off, frame.length());
        if (hl < 0) {
            wireErrors.increment(WireError.ETH_TRUNCATED);
            return false;
        }
        long dst = Ethernet.destination(s, off);
        if (dst != mac && dst != MacAddress.BROADCAST) {
            counters.increment(StackCounter.RX_NOT_FOR_US);
            return false;
        }
        if (Ethernet.isTagged(s, off)) {
            counters.increment(StackCounter.RX_VLAN_NOT_CONFIGURED);
            return false;
        }
        switch (Ethernet.payloadType(s, off)) {
            case Ethernet.TYPE_IPV4 -> {
                return frameOwner == loopbackOwner
                        ? ip.receiveLoopback(frame, frameOwner)
                        : ip.receive(frame, frameOwner, hl);
            }
            case Ethernet.TYPE_ARP -> {
                WireError err = Arp.validate(s, off + hl, frame.length() - hl);
                if (err != null) {
                    wireErrors.increment(err);
                } else {
                    ip.arp().receive(s, off + hl);
                }
                return false;
            }
            default -> {
                counters.increment(StackCounter.RX_UNSUPPORTED_ETHERTYPE);
                return false;
            }
        }
    }

    /** A bug caught at a last guard: counted, the first kept for the stack dump. */
    void internalError(RuntimeException e) {
        counters.increment(StackCounter.INTERNAL_ERRORS);
        if (firstInternalError == null) {
            firstInternalError = e;
        }
    }

    RuntimeException firstInternalError() {
        return firstInternalError;
    }

    boolean hasLoopback() {
        return loopbackCount > 0;
    }

    /** Receives every frame this stack sent to itself; returns how many. */
    int drainLoopback() {
        if (loopbackCount == 0) {
            return 0;
        }
        int n = 0;
        ip.receiveBatch(true);
        try {
            while (loopbackCount > 0) {
                PacketBuffer f = loopback[loopbackHead];
                loopback[loopbackHead] = null;
                loopbackHead = (loopbackHead + 1) % LOOPBACK_QUEUE_FRAMES;
                loopbackCount--;
                receiveFrame(f, loopbackOwner);
                n++;
            }
        } finally {
            ip.receiveBatch(false);
        }
        return n;
    }

    // ---------------------------------------------------------------- transmit

    @Override
    public void transmit(PacketBuffer frame, BufferOwner from) {
        int len = frame.length();
        if (len < Ethernet.MIN_FRAME_LENGTH) {
            // Pad with zeros: the bytes after the frame are a reused buffer's old contents.
            MemorySegment.copy(ZEROS, 0, frame.segment(), frame.offset() + len, Ethernet.MIN_FRAME_LENGTH - len);
            frame.setRange(frame.offset(), Ethernet.MIN_FRAME_LENGTH);
        }
        if (Ethernet.destination(frame.segment(), frame.offset()) == mac) {
            if (loopbackCount == LOOPBACK_QUEUE_FRAMES) {
                counters.increment(StackCounter.LOOPBACK_DROPS);
                frame.release(from);
                return;
            }
            frame.transfer(from, loopbackOwner);
            loopback[(loopbackHead + loopbackCount++) % LOOPBACK_QUEUE_FRAMES] = frame;
            counters.increment(StackCounter.LOOPBACK_FRAMES);
            return;
        }
        if (frame.offset() != 0) {
            // Rings carry frames from the start of their buffer.
            MemorySegment.copy(frame.segment(), frame.offset(), frame.segment(), 0, frame.length());
            frame.setRange(0, frame.length());
        }
        frame.transfer(from, owner);
        if (txBacklogCount == 0 && nic.tx().post(frame)) {
            counters.increment(StackCounter.TX_FRAMES);
            txPending = true;
        } else if (txBacklogCount < TX_BACKLOG_FRAMES) {
            counters.increment(StackCounter.TX_RING_FULL);
            txBacklog[(txBacklogHead + txBacklogCount++) % TX_BACKLOG_FRAMES] = frame;
        } else {
            counters.increment(StackCounter.TX_BACKLOG_DROPS);
            frame.release(owner);
            return;
        }
        if (doorbellBatches == 0) {
            flush(); // latency: a send outside any bracket goes at once
        }
    }

    /** Moves backlogged frames onto the tx ring as far as it has room. */
    void drainTxBacklog() {
        while (txBacklogCount > 0 && nic.tx().post(txBacklog[txBacklogHead])) {
            txBacklog[txBacklogHead] = null;
            txBacklogHead = (txBacklogHead + 1) % TX_BACKLOG_FRAMES;
            txBacklogCount--;
            counters.increment(StackCounter.TX_FRAMES);
            txPending = true;
        }
    }

    /**
     * Opens ({@code true}) or closes a bracket whose end calls {@link #flush()}: inside one,
     * frames sent ring the doorbell once, there, not each on its own (a 64 KiB write is one
     * kick, not forty). Brackets nest; every opening is closed.
     */
    void batchDoorbell(boolean on) {
        doorbellBatches += on ? 1 : -1;
        assert doorbellBatches >= 0;
    }

    /** Rings the doorbell if frames were posted since the last one. */
    void flush() {
        if (txPending) {
            txPending = false;
            nic.tx().doorbell();
        }
    }

    /**
     * Arms the NIC timer at the timers' earliest deadline if that changed. Returns the deadline
     * armed now, or {@code Long.MAX_VALUE} if none was (unchanged, or nothing to wait for).
     */
    long armNicTimer() {
        long next = timers.nextDeadline();
        if (next == armedDeadlineNanos) {
            return Long.MAX_VALUE;
        }
        armedDeadlineNanos = next;
        if (next == Long.MAX_VALUE) {
            nic.timer().disarm();
        } else {
            nic.timer().arm(next);
        }
        return next;
    }

    /** Returns the queued frames (loopback, tx backlog) to their pools: stack shutdown. */
    void close() {
        while (loopbackCount > 0) {
            loopback[loopbackHead].release(loopbackOwner);
            loopback[loopbackHead] = null;
            loopbackHead = (loopbackHead + 1) % LOOPBACK_QUEUE_FRAMES;
            loopbackCount--;
        }
        while (txBacklogCount > 0) {
            txBacklog[txBacklogHead].release(owner);
            txBacklog[txBacklogHead] = null;
            txBacklogHead = (txBacklogHead + 1) % TX_BACKLOG_FRAMES;
            txBacklogCount--;
        }
    }
}
