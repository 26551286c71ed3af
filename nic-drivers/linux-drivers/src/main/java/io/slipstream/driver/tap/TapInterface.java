package io.slipstream.driver.tap;

import io.slipstream.buffer.BufferOwner;
import io.slipstream.buffer.BufferPool;
import io.slipstream.buffer.PacketBuffer;
import io.slipstream.driver.poll.PollInterrupt;
import io.slipstream.linux.Errno;
import io.slipstream.linux.EventFd;
import io.slipstream.linux.Libc;
import io.slipstream.nic.AbstractVirtualInterface;
import io.slipstream.nic.EventHandler;
import io.slipstream.nic.EventQueue;
import io.slipstream.nic.NicConfig;
import io.slipstream.nic.NicCounter;
import io.slipstream.nic.NicException;
import io.slipstream.nic.RxRing;
import io.slipstream.nic.TxRing;
import io.slipstream.time.Clock;
import io.slipstream.wire.Ethernet;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * A virtual interface on a Linux TAP device: the kernel is the peer on the other side of the
 * link. The "NIC" is emulated in the stack's own thread: the doorbell writes each posted
 * frame to the device, and polling the event queue reads frames into posted buffers, so the
 * stack side costs one system call per frame and nothing else.
 *
 * <p>Tx ring cursors (sequence numbers into one FIFO): {@code [head, txSent)} were written and
 * wait for their TX_COMPLETE event, {@code [txSent, txRung)} were rung and wait for the device
 * (it said EAGAIN), {@code [txRung, tail)} were posted after the last doorbell.
 */
final class TapInterface extends AbstractVirtualInterface {
    /** Largest frame the MTU allows: the IP datagram, an Ethernet header and one 802.1Q tag. */
    private static final int FRAME_OVERHEAD = Ethernet.HEADER_LENGTH + Ethernet.VLAN_TAG_LENGTH;

    private final int maxFrame;
    private final Clock clock;
    private final Arena arena;
    /** The stack side's calls; the interrupt thread has its own. */
    private final Libc libc;
    private final int fd;
    private final BufferOwner rxOwner;
    private final BufferOwner txOwner;
    private final FrameFifo rxPosted;
    private final FrameFifo txQueue;
    private long txSent;
    private long txRung;
    /** Where frames go that arrive while no rx buffer is posted: read, counted, dropped. */
    private final MemorySegment scratch;
    private final MemorySegment readyCheck;
    private final PollInterrupt interrupt;
    private final Rx rx;
    private final Tx tx;
    private final Events events = new Events();
    private boolean closed;

    private TapInterface(NicConfig config, Clock clock, Arena arena, Libc libc, int fd, EventFd eventFd) {
        super("tap " + config.interfaceName(), config.interfaceName(), config.mac(), config.mtu());
        this.maxFrame = config.mtu() + FRAME_OVERHEAD;
        this.clock = clock;
        this.arena = arena;
        this.libc = libc;
        this.fd = fd;
        this.rxOwner = new BufferOwner("tap " + name() + " rx ring");
        this.txOwner = new BufferOwner("tap " + name() + " tx ring");
        this.rxPosted = new FrameFifo(config.rxRingSize());
        this.txQueue = new FrameFifo(config.txRingSize());
        this.rx = new Rx();
        this.tx = new Tx();
        this.scratch = arena.allocate(config.frameSize());
        this.readyCheck = Libc.pollFds(arena, 1);
        Libc.setPollFd(readyCheck, 0, fd, Libc.POLLIN);
        this.interrupt = new PollInterrupt("tap " + name(), new int[] {fd}, eventFd, clock, stats, arena);
        BufferPool pool = BufferPool.allocate(config.bufferCount(), config.frameSize()); // last: nothing fails after it
        attach(pool, rx, tx, events, interrupt.timer(), interrupt);
    }

    /** Attaches to (or creates) the TAP device {@code config.interfaceName()}. */
    static TapInterface open(NicConfig config, Clock clock) {
        String name = config.interfaceName();
        String os = System.getProperty("os.name", "");
        if (!os.startsWith("Linux")) {
            throw new NicException(NicException.Kind.NOT_FOUND, "tap " + name + ": the TAP driver needs Linux, this is " + os);
        }
        TapDevice.validName(name);
        Arena arena = Arena.ofShared();
        Libc libc = new Libc(arena);
        int fd = -1;
        EventFd eventFd = null;
        try {
            fd = TapDevice.open(libc, name);
            try {
                eventFd = EventFd.open(libc, arena);
            } catch (IOException e) {
                throw new NicException("tap " + name + ": " + e.getMessage(), e);
            }
            return new TapInterface(config, clock, arena, libc, fd, eventFd);
        } catch (RuntimeException | Error e) {
            if (eventFd != null) {
                eventFd.close(libc);
            }
            if (fd >= 0) {
                libc.close(fd);
            }
            arena.close();
            throw e;
        }
    }

    /**
     * Stops the interrupt thread's use of the device, closes it (the kernel removes the TAP),
     * returns every buffer the rings hold and frees the pool. Called by the stack side.
     */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        interrupt.close();
        libc.close(fd);
        for (PacketBuffer b = rxPosted.poll(); b != null; b = rxPosted.poll()) {
            b.release(rxOwner);
        }
        for (PacketBuffer b = txQueue.poll(); b != null; b = txQueue.poll()) {
            b.release(txOwner);
        }
        txSent = txRung = txQueue.head();
        buffers().close();
        arena.close();
    }

    @Override
    public String toString() {
        return "tap[" + name() + (closed ? ", closed]" : "]");
    }

    private void checkOpen() {
        if (closed) {
            throw new NicException("tap " + name() + " is closed");
        }
    }

    /** Writes rung frames until the device pushes back; every frame ends completed or waiting. */
    private void flush() {
        while (txSent != txRung) {
            PacketBuffer b = txQueue.at(txSent);
            int length = b.length();
            if (length > maxFrame) {
                stats.increment(NicCounter.TX_ERRORS);
            } else {
                long written = libc.writeNonBlocking(fd, b.segment().address() + b.offset(), length);
                if (written < 0) {
                    int errno = libc.errno();
                    if (errno == Errno.EINTR) {
                        continue;
                    }
                    if (errno == Errno.EAGAIN) {
                        return; // the next poll tries again
                    }
                    stats.increment(NicCounter.TX_ERRORS);
                } else {
                    stats.increment(NicCounter.TX_FRAMES);
                    stats.add(NicCounter.TX_BYTES, length);
                }
            }
            txSent++;
        }
    }

    /**
     * What the rx and tx rings share: the stack lends a buffer to the ring's FIFO, which owns
     * it from then on, and the ring reports how many it holds.
     */
    private abstract class LentRing {
        private final FrameFifo fifo;
        private final BufferOwner owner;

        LentRing(FrameFifo fifo, BufferOwner owner) {
            this.fifo = fifo;
            this.owner = owner;
        }

        /** False, keeping nothing, when the ring is full. */
        public boolean post(PacketBuffer b) {
            checkOpen();
            if (b.pool() != buffers()) {
                throw new IllegalArgumentException("buffer " + b.index() + " is not from tap " + name() + "'s pool");
            }
            if (fifo.size() == fifo.capacity()) {
                return false;
            }
            b.transfer(stackOwner(), owner); // fails, keeping nothing, unless the stack owns it
            fifo.offer(b);
            return true;
        }

        public int capacity() {
            return fifo.capacity();
        }

        public int posted() {
            return fifo.size();
        }
    }

    private final class Rx extends LentRing implements RxRing {
        Rx() {
            super(rxPosted, rxOwner);
        }
    }

    private final class Tx extends LentRing implements TxRing {
        Tx() {
            super(txQueue, txOwner);
        }

        @Override
        public void doorbell() {
            checkOpen();
            txRung = txQueue.tail();
            flush();
        }
    }

    private final class Events implements EventQueue {
        private static final int DRAINED = -1;
        private static final int DROPPED = 0;
        private static final int DELIVERED = 1;

        @Override
        public int poll(EventHandler handler, int limit) {
            if (closed || limit <= 0) {
                return 0;
            }
            int delivered = 0;
            if (interrupt.takeWakeup()) {
                handler.onWakeup();
                delivered++;
            }
            if (txSent != txRung) {
                flush();
            }
            while (delivered < limit && txQueue.head() != txSent) {
                PacketBuffer b = txQueue.poll();
                b.transfer(txOwner, stackOwner());
                handler.onTxComplete(b);
                delivered++;
            }
            if (delivered < limit && interrupt.expireTimer(clock.nanoTime())) {
                stats.increment(NicCounter.TIMER_EVENTS);
                handler.onTimer();
                delivered++;
            }
            // Reads are bounded by the limit too, so a flood with no rx buffer posted cannot
            // keep the caller here.
            for (int reads = 0; delivered < limit && reads < limit; reads++) {
                int received = receiveOne(handler);
                if (received == DRAINED) {
                    break;
                }
                delivered += received;
            }
            return delivered;
        }

        /** Reads one frame: {@link #DELIVERED}, {@link #DROPPED}, or {@link #DRAINED} (none, or failed). */
        private int receiveOne(EventHandler handler) {
            PacketBuffer b = rxPosted.peek();
            MemorySegment target = b == null ? scratch : b.segment();
            long n;
            do {
                n = libc.readNonBlocking(fd, target.address(), target.byteSize());
            } while (n < 0 && libc.errno() == Errno.EINTR);
            if (n <= 0) {
                return DRAINED; // EAGAIN; any other error ends this round as well
            }
            if (b == null) {
                stats.increment(NicCounter.RX_NO_BUFFER);
                return DROPPED;
            }
            if (n > target.byteSize() || n > maxFrame) {
                stats.increment(NicCounter.RX_OVERSIZE); // read(2) cut a larger frame short: drop it
                return DROPPED;
            }
            rxPosted.poll();
            b.setRange(0, (int) n);
            b.transfer(rxOwner, stackOwner());
            stats.increment(NicCounter.RX_FRAMES);
            stats.add(NicCounter.RX_BYTES, n);
            handler.onRx(b);
            return DELIVERED;
        }

        @Override
        public boolean hasEvents() {
            if (closed) {
                return false;
            }
            if (txQueue.head() != txRung || interrupt.wakeupPending() || interrupt.timerExpired(clock.nanoTime())) {
                return true;
            }
            return libc.pollNow(readyCheck, 1) != 0; // readable, or an error: look
        }
    }
}
