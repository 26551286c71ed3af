package io.slipstream.driver.copy;

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
import java.lang.foreign.Arena;

/**
 * What the drivers whose device is one descriptor that frames are copied through (a TAP
 * device; an AF_PACKET socket) do alike, in the stack's own thread: the rings are FIFOs of
 * lent buffers, the doorbell writes each posted frame with one write(2), a written frame
 * completes at the next poll, and the interrupt is {@link PollInterrupt} on the descriptor. A
 * driver supplies how a frame is received ({@link #receiveOne}) and whether one waits
 * ({@link #rxWaiting}), and calls {@link #start} last in its constructor.
 *
 * <p>Tx ring cursors (sequence numbers into one FIFO): {@code [head, txSent)} were written and
 * wait for their TX_COMPLETE event, {@code [txSent, txRung)} were rung and wait for the device
 * (it pushed back), {@code [txRung, tail)} were posted after the last doorbell. Every field is
 * the stack side's (the holder of the stack lock) unless it says otherwise.
 */
public abstract class CopyingInterface extends AbstractVirtualInterface {
    /** {@link #receiveOne}: a frame went to the handler, one was dropped (counted), or none waits. */
    protected static final int DELIVERED = 1;
    protected static final int DROPPED = 0;
    protected static final int DRAINED = -1;
    /** Largest frame the MTU allows: the IP datagram, an Ethernet header and one 802.1Q tag. */
    private static final int FRAME_OVERHEAD = Ethernet.HEADER_LENGTH + Ethernet.VLAN_TAG_LENGTH;

    private final String kind;
    protected final int maxFrame;
    protected final Clock clock;
    protected final Arena arena;
    /** The stack side's calls; the interrupt thread has its own. */
    protected final Libc libc;
    protected final int fd;
    protected final BufferOwner rxOwner;
    protected final BufferOwner txOwner;
    protected final FrameFifo rxPosted;
    private final FrameFifo txQueue;
    private final int bufferCount;
    private final int frameSize;
    private long txSent;
    private long txRung;
    protected final PollInterrupt interrupt;
    /** Written by the stack side's close; read by any thread (stats). */
    protected volatile boolean closed;

    /** @param kind the driver's name, which labels the interface in owners and errors ("tap", "packet") */
    protected CopyingInterface(String kind, NicConfig config, Clock clock, Arena arena, Libc libc, int fd,
                               EventFd eventFd) {
        super(kind + " " + config.interfaceName(), config.interfaceName(), config.mac(), config.mtu());
        this.kind = kind;
        this.maxFrame = config.mtu() + FRAME_OVERHEAD;
        this.clock = clock;
        this.arena = arena;
        this.libc = libc;
        this.fd = fd;
        this.rxOwner = new BufferOwner(kind + " " + name() + " rx ring");
        this.txOwner = new BufferOwner(kind + " " + name() + " tx ring");
        this.rxPosted = new FrameFifo(config.rxRingSize());
        this.txQueue = new FrameFifo(config.txRingSize());
        this.bufferCount = config.bufferCount();
        this.frameSize = config.frameSize();
        this.interrupt = new PollInterrupt(kind + " " + name(), new int[] {fd}, eventFd, clock, stats, arena);
    }

    /** The largest frame the MTU allows on a link with {@code mtu}. */
    protected static int maxFrame(int mtu) {
        return mtu + FRAME_OVERHEAD;
    }

    /** Allocates the pool and attaches the parts: the last thing the driver's constructor does, as nothing fails after it. */
    protected final void start() {
        attach(BufferPool.allocate(bufferCount, frameSize), new Rx(), new Tx(), new Events(), interrupt.timer(), interrupt);
    }

    /**
     * Reads the device's next frame into the first posted rx buffer and hands it to {@code
     * handler}; without a posted buffer, reads it anyway and counts it dropped.
     */
    protected abstract int receiveOne(EventHandler handler);

    /** Whether the device has a frame (or an error) to read now; no blocking. */
    protected abstract boolean rxWaiting();

    /**
     * Stops the interrupt thread's use of the device and returns every buffer the rings hold;
     * then the driver closes its device and frees the pool ({@link #freeBuffers}).
     */
    protected final void stopRings() {
        closed = true;
        interrupt.close();
        for (PacketBuffer b = rxPosted.poll(); b != null; b = rxPosted.poll()) {
            b.release(rxOwner);
        }
        for (PacketBuffer b = txQueue.poll(); b != null; b = txQueue.poll()) {
            b.release(txOwner);
        }
        txSent = txRung = txQueue.head();
    }

    /** Frees the pool and the arena: the last of close. */
    protected final void freeBuffers() {
        buffers().close();
        arena.close();
    }

    @Override
    public String toString() {
        return kind + "[" + name() + (closed ? ", closed]" : "]");
    }

    private void checkOpen() {
        if (closed) {
            throw new NicException(kind + " " + name() + " is closed");
        }
    }

    /** Writes rung frames until the device pushes back; every frame ends completed or waiting. */
    private void flush() {
        while (txSent != txRung) {
            PacketBuffer b = txQueue.at(txSent);
            int length = b.length();
            if (length < Ethernet.HEADER_LENGTH || length > maxFrame) {
                stats.incrementLocked(NicCounter.TX_ERRORS);
            } else {
                long written = libc.writeNonBlocking(fd, b.segment().address() + b.offset(), length);
                if (written < 0) {
                    int errno = libc.errno();
                    if (errno == Errno.EINTR) {
                        continue;
                    }
                    if (errno == Errno.EAGAIN || errno == Errno.ENOBUFS) {
                        return; // the device's queue is full: the next poll tries again
                    }
                    stats.incrementLocked(NicCounter.TX_ERRORS);
                } else {
                    stats.incrementLocked(NicCounter.TX_FRAMES);
                    stats.addLocked(NicCounter.TX_BYTES, length);
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
                throw new IllegalArgumentException("buffer " + b.index() + " is not from " + kind + " " + name() + "'s pool");
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
        /**
         * Order within the limit: a wakeup, tx completions up to half of it, the timer, then a
         * batch of reads until the device is drained (or the limit is reached), then the rest of
         * the completions. A sender's completions come back in bursts as large as its
         * sends; were they first in line for the whole limit, its ACKs would wait in the device
         * a poll behind every burst. Reads are bounded by the limit too, so a flood with no rx
         * buffer posted cannot keep the caller here.
         */
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
            delivered += complete(handler, Math.min(limit - delivered, (limit + 1) / 2));
            if (delivered < limit && interrupt.expireTimer(clock.nanoTime())) {
                stats.increment(NicCounter.TIMER_EVENTS);
                handler.onTimer();
                delivered++;
            }
            delivered += receiveBatch(handler, limit - delivered);
            return delivered + complete(handler, limit - delivered);
        }

        /** Hands up to {@code limit} written frames back; how many. */
        private int complete(EventHandler handler, int limit) {
            int delivered = 0;
            while (delivered < limit && txQueue.head() != txSent) {
                PacketBuffer b = txQueue.poll();
                b.transfer(txOwner, stackOwner());
                handler.onTxComplete(b);
                delivered++;
            }
            return delivered;
        }

        /** Reads frames until the device has none or {@code limit} were read; a batch that read any counts once. */
        private int receiveBatch(EventHandler handler, int limit) {
            int delivered = 0;
            int reads = 0;
            while (reads < limit) {
                int received = receiveOne(handler);
                if (received == DRAINED) {
                    break;
                }
                reads++;
                delivered += received;
            }
            if (reads > 0) {
                stats.increment(NicCounter.RX_BATCHES);
            }
            return delivered;
        }

        @Override
        public boolean hasEvents() {
            if (closed) {
                return false;
            }
            if (txQueue.head() != txRung || interrupt.wakeupPending() || interrupt.timerExpired(clock.nanoTime())) {
                return true;
            }
            return rxWaiting();
        }
    }
}
