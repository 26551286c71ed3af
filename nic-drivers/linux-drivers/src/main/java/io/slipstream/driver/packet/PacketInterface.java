package io.slipstream.driver.packet;

import io.slipstream.buffer.BufferOwner;
import io.slipstream.buffer.BufferPool;
import io.slipstream.buffer.PacketBuffer;
import io.slipstream.config.Settings;
import io.slipstream.config.StackConfig;
import io.slipstream.driver.poll.PollInterrupt;
import io.slipstream.driver.tap.FrameFifo;
import io.slipstream.linux.Errno;
import io.slipstream.linux.EventFd;
import io.slipstream.linux.Libc;
import io.slipstream.linux.Mmap;
import io.slipstream.linux.Packet;
import io.slipstream.linux.Sockets;
import io.slipstream.nic.AbstractVirtualInterface;
import io.slipstream.nic.EventHandler;
import io.slipstream.nic.EventQueue;
import io.slipstream.nic.NicConfig;
import io.slipstream.nic.NicCounter;
import io.slipstream.nic.NicException;
import io.slipstream.nic.NicStats;
import io.slipstream.nic.RxRing;
import io.slipstream.nic.TxRing;
import io.slipstream.time.Clock;
import io.slipstream.wire.Ethernet;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * A virtual interface on an AF_PACKET socket bound to an existing Linux interface, with an
 * address of the stack's own that the kernel does not hold: the stack answers ARP for it
 * itself, and its MAC is its own, added to the interface's unicast filter (PACKET_MR_UNICAST)
 * for as long as the socket lives. A classic BPF filter ({@link PacketFilter}) lets the kernel
 * copy up only the stack's frames.
 *
 * <p>Rx: the kernel writes frames into a TPACKET_V3 ring of blocks mapped into this process;
 * a block becomes ours when full or after {@link PacketOptions#RETIRE_MS}, and polling copies
 * each frame into a posted rx buffer, then hands the block back. Tx: one write(2) per frame,
 * PACKET_QDISC_BYPASS, which copies it into the kernel at once, so a frame is complete as soon
 * as it is written; a tx ring would save that copy but not the system call, which the kernel
 * needs as its kick anyway. Tx ring cursors are as in the TAP driver: {@code [head, txSent)}
 * written, {@code [txSent, txRung)} rung and waiting for the device, {@code [txRung, tail)}
 * posted after the last doorbell.
 *
 * <p>Fields are the stack side's (the holder of the stack lock) unless they say otherwise.
 */
final class PacketInterface extends AbstractVirtualInterface {
    private static final int FRAME_OVERHEAD = Ethernet.HEADER_LENGTH + Ethernet.VLAN_TAG_LENGTH;
    /** tp_frame_size: V3 packs frames by their length, so this only bounds the frame count the kernel computes. */
    private static final int RING_FRAME_BYTES = 2048;

    private final int maxFrame;
    private final Clock clock;
    private final Arena arena;
    private final Libc libc;
    private final int fd;
    private final MemorySegment ring;
    private final int blocks;
    private final int blockBytes;
    /** The block the next frame is read from, and where in it: the next frame's offset and how many are left. */
    private int rxBlock;
    private long rxFrameAt = -1;
    private int rxFramesLeft;
    private final BufferOwner rxOwner;
    private final BufferOwner txOwner;
    private final FrameFifo rxPosted;
    private final FrameFifo txQueue;
    private long txSent;
    private long txRung;
    private final PollInterrupt interrupt;
    private final KernelCounters kernelCounters;
    private final Events events = new Events();
    private volatile boolean closed;

    private PacketInterface(NicConfig config, PacketOptions options, Clock clock, Arena arena, Libc libc, int fd,
                            MemorySegment ring, EventFd eventFd) {
        super("packet " + config.interfaceName(), config.interfaceName(), config.mac(), config.mtu());
        this.maxFrame = config.mtu() + FRAME_OVERHEAD;
        this.clock = clock;
        this.arena = arena;
        this.libc = libc;
        this.fd = fd;
        this.ring = ring;
        this.blocks = options.blocks();
        this.blockBytes = options.blockBytes();
        this.rxOwner = new BufferOwner("packet " + name() + " rx ring");
        this.txOwner = new BufferOwner("packet " + name() + " tx ring");
        this.rxPosted = new FrameFifo(config.rxRingSize());
        this.txQueue = new FrameFifo(config.txRingSize());
        this.interrupt = new PollInterrupt("packet " + name(), new int[] {fd}, eventFd, clock, stats, arena);
        this.kernelCounters = new KernelCounters(new Sockets(new Libc(arena)), arena);
        BufferPool pool = BufferPool.allocate(config.bufferCount(), config.frameSize()); // last: nothing fails after it
        attach(pool, new Rx(), new Tx(), events, interrupt.timer(), interrupt);
    }

    /**
     * Opens a packet socket on {@code config.interfaceName()}: it receives nothing until bound,
     * so the filter and the ring are in place before the first frame is copied.
     */
    static PacketInterface open(NicConfig config, PacketOptions options, Clock clock) {
        String name = config.interfaceName();
        int address = StackConfig.from(Settings.of(config.options())).address();
        int maxFrame = config.mtu() + FRAME_OVERHEAD;
        int frameRoom = Packet.TPACKET3_HDRLEN + Packet.TPACKET_ALIGNMENT + maxFrame;
        if (options.blockBytes() < Packet.BLOCK_DESC_SIZE + frameRoom) {
            throw new NicException(NicException.Kind.INVALID_CONFIG, "packet " + name + ": "
                    + PacketOptions.BLOCK_BYTES.name() + " " + options.blockBytes() + " cannot hold a frame of MTU "
                    + config.mtu() + " (" + (Packet.BLOCK_DESC_SIZE + frameRoom) + " bytes with the ring's headers)");
        }
        Arena arena = Arena.ofShared();
        Libc libc = new Libc(arena);
        Sockets sockets = new Sockets(libc);
        int fd = -1;
        MemorySegment ring = null;
        EventFd eventFd = null;
        try {
            int ifindex = sockets.ifIndex(name);
            if (ifindex == 0) {
                throw new NicException(NicException.Kind.NOT_FOUND, "packet " + name + ": no such interface ("
                        + libc.failure("if_nametoindex") + ")");
            }
            fd = sockets.socket(Packet.AF_PACKET, Packet.SOCK_RAW | Sockets.SOCK_NONBLOCK | Sockets.SOCK_CLOEXEC, 0);
            if (fd < 0) {
                throw failure(name, libc, "socket(AF_PACKET)");
            }
            setOption(sockets, fd, Sockets.SOL_SOCKET, Packet.SO_ATTACH_FILTER,
                    PacketFilter.program(arena, address, config.mac()), Packet.SOCK_FPROG_SIZE, name, "SO_ATTACH_FILTER");
            MemorySegment scratch = arena.allocate(Packet.REQ3_SIZE, 8);
            scratch.set(ValueLayout.JAVA_INT, 0, Packet.TPACKET_V3);
            setOption(sockets, fd, Packet.SOL_PACKET, Packet.PACKET_VERSION, scratch, 4, name, "PACKET_VERSION");
            Packet.req3(scratch, options.blockBytes(), options.blocks(), RING_FRAME_BYTES, options.retireMillis());
            setOption(sockets, fd, Packet.SOL_PACKET, Packet.PACKET_RX_RING, scratch, Packet.REQ3_SIZE, name,
                    "PACKET_RX_RING");
            ring = Mmap.shared(libc, fd, (long) options.blockBytes() * options.blocks(), 0);
            if (ring == null) {
                throw failure(name, libc, "mmap of the rx ring");
            }
            scratch.set(ValueLayout.JAVA_INT, 0, 1);
            setOption(sockets, fd, Packet.SOL_PACKET, Packet.PACKET_QDISC_BYPASS, scratch, 4, name,
                    "PACKET_QDISC_BYPASS");
            MemorySegment sockaddr = arena.allocate(Packet.SOCKADDR_LL_SIZE, 8);
            Packet.sockaddrLl(sockaddr, ifindex);
            if (sockets.bind(fd, sockaddr, Packet.SOCKADDR_LL_SIZE) < 0) {
                throw failure(name, libc, "bind");
            }
            MemorySegment mreq = arena.allocate(Packet.MREQ_SIZE, 8);
            Packet.unicastMembership(mreq, ifindex, config.mac());
            setOption(sockets, fd, Packet.SOL_PACKET, Packet.PACKET_ADD_MEMBERSHIP, mreq, Packet.MREQ_SIZE, name,
                    "PACKET_ADD_MEMBERSHIP (the stack's MAC)");
            try {
                eventFd = EventFd.open(libc, arena);
            } catch (IOException e) {
                throw new NicException("packet " + name + ": " + e.getMessage(), e);
            }
            return new PacketInterface(config, options, clock, arena, libc, fd, ring, eventFd);
        } catch (RuntimeException | Error e) {
            if (eventFd != null) {
                eventFd.close(libc);
            }
            if (ring != null) {
                Mmap.unmap(libc, ring);
            }
            if (fd >= 0) {
                libc.close(fd); // also drops the membership and the filter
            }
            arena.close();
            throw e;
        }
    }

    private static void setOption(Sockets sockets, int fd, int level, int option, MemorySegment value, int length,
                                  String name, String what) {
        if (sockets.setSockOpt(fd, level, option, value, length) < 0) {
            throw failure(name, sockets.libc(), "setsockopt " + what);
        }
    }

    private static NicException failure(String name, Libc libc, String operation) {
        int errno = libc.errno();
        NicException.Kind kind = errno == Errno.EPERM || errno == Errno.EACCES ? NicException.Kind.NOT_PERMITTED
                : errno == Errno.ENODEV ? NicException.Kind.NOT_FOUND : NicException.Kind.FAILED;
        return new NicException(kind, "packet " + name + ": " + libc.failure(operation)
                + (kind == NicException.Kind.NOT_PERMITTED ? " (AF_PACKET needs CAP_NET_RAW)" : ""));
    }

    /** The driver's counters, with the kernel's PACKET_STATISTICS folded in (read here, not on the data path). */
    @Override
    public NicStats stats() {
        kernelCounters.sync();
        return stats;
    }

    /**
     * Stops the interrupt thread's use of the socket, closes it (the kernel drops the filter and
     * the MAC's membership with it), unmaps the ring, returns every buffer and frees the pool.
     */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        kernelCounters.closing();
        interrupt.close();
        Mmap.unmap(libc, ring);
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
        return "packet[" + name() + (closed ? ", closed]" : "]");
    }

    private void checkOpen() {
        if (closed) {
            throw new NicException("packet " + name() + " is closed");
        }
    }

    /** Writes rung frames until the device pushes back; every frame ends completed or waiting. */
    private void flush() {
        while (txSent != txRung) {
            PacketBuffer b = txQueue.at(txSent);
            int length = b.length();
            if (length < Ethernet.HEADER_LENGTH || length > maxFrame) {
                stats.increment(NicCounter.TX_ERRORS);
            } else {
                long written = libc.writeNonBlocking(fd, b.segment().address() + b.offset(), length);
                if (written < 0) {
                    int errno = libc.errno();
                    if (errno == Errno.EINTR) {
                        continue;
                    }
                    if (errno == Errno.EAGAIN || errno == Errno.ENOBUFS) {
                        return; // the device queue is full (qdisc bypassed): the next poll tries again
                    }
                    stats.increment(NicCounter.TX_ERRORS);
                } else {
                    stats.incrementLocked(NicCounter.TX_FRAMES);
                    stats.addLocked(NicCounter.TX_BYTES, length);
                }
            }
            txSent++;
        }
    }

    /** The stack lends a buffer to a ring's FIFO, which owns it from then on. */
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
                throw new IllegalArgumentException("buffer " + b.index() + " is not from packet " + name() + "'s pool");
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
            // Frames read are bounded by the limit too, so a flood with no rx buffer posted
            // cannot keep the caller here.
            for (int reads = 0; delivered < limit && reads < limit; reads++) {
                int received = receiveOne(handler);
                if (received < 0) {
                    break;
                }
                delivered += received;
            }
            return delivered;
        }

        /** Copies the ring's next frame into a posted buffer: 1 delivered, 0 dropped (counted), -1 none waiting. */
        private int receiveOne(EventHandler handler) {
            long block = (long) rxBlock * blockBytes;
            if (rxFrameAt < 0) {
                if ((Packet.blockStatus(ring, block) & Packet.TP_STATUS_USER) == 0) {
                    return -1;
                }
                rxFramesLeft = ring.get(ValueLayout.JAVA_INT, block + Packet.BLOCK_NUM_PKTS);
                rxFrameAt = block + Integer.toUnsignedLong(ring.get(ValueLayout.JAVA_INT,
                        block + Packet.BLOCK_OFFSET_TO_FIRST_PKT));
                if (rxFramesLeft <= 0) {
                    finishBlock(block); // retired by the timer with nothing in it
                    return 0;
                }
            }
            long frame = rxFrameAt;
            int snapBytes = ring.get(ValueLayout.JAVA_INT, frame + Packet.HDR3_SNAPLEN);
            int wireBytes = ring.get(ValueLayout.JAVA_INT, frame + Packet.HDR3_LEN);
            int macAt = Short.toUnsignedInt(ring.get(ValueLayout.JAVA_SHORT, frame + Packet.HDR3_MAC));
            long next = Integer.toUnsignedLong(ring.get(ValueLayout.JAVA_INT, frame + Packet.HDR3_NEXT_OFFSET));
            boolean last = --rxFramesLeft == 0 || next == 0 || frame + next >= block + blockBytes;
            PacketBuffer b = rxPosted.peek();
            NicCounter drop = null;
            if (snapBytes < wireBytes || snapBytes > maxFrame || frame + macAt + snapBytes > block + blockBytes
                    || (b != null && snapBytes > b.capacity())) {
                drop = NicCounter.RX_OVERSIZE; // the ring cut it short, or it is larger than the MTU allows
            } else if (b == null) {
                drop = NicCounter.RX_NO_BUFFER;
            } else {
                MemorySegment.copy(ring, frame + macAt, b.segment(), 0, snapBytes);
            }
            if (last) {
                finishBlock(block); // after the copy: the frame's bytes are the kernel's again from here
            } else {
                rxFrameAt = frame + next;
            }
            if (drop != null) {
                stats.incrementLocked(drop);
                return 0;
            }
            rxPosted.poll();
            b.setRange(0, snapBytes);
            b.transfer(rxOwner, stackOwner());
            stats.incrementLocked(NicCounter.RX_FRAMES);
            stats.addLocked(NicCounter.RX_BYTES, snapBytes);
            handler.onRx(b);
            return 1;
        }

        /** Hands {@code block} back to the kernel and moves the reader to the next one. */
        private void finishBlock(long block) {
            Packet.releaseBlock(ring, block);
            rxFrameAt = -1;
            rxFramesLeft = 0;
            rxBlock = rxBlock + 1 == blocks ? 0 : rxBlock + 1;
        }

        @Override
        public boolean hasEvents() {
            if (closed) {
                return false;
            }
            if (txQueue.head() != txRung || interrupt.wakeupPending() || interrupt.timerExpired(clock.nanoTime())) {
                return true;
            }
            return rxFrameAt >= 0
                    || (Packet.blockStatus(ring, (long) rxBlock * blockBytes) & Packet.TP_STATUS_USER) != 0;
        }
    }

    /**
     * The kernel's PACKET_STATISTICS, which reset as they are read: frames dropped because the
     * ring had no free block (XDP's ring-full counterpart), and times the queue froze for it.
     * Any thread may sync; one at a time.
     */
    private final class KernelCounters {
        private final Sockets caller;
        private final MemorySegment out;
        private final MemorySegment length;

        KernelCounters(Sockets caller, Arena arena) {
            this.caller = caller;
            this.out = arena.allocate(Packet.STATS_V3_SIZE, 8);
            this.length = arena.allocate(ValueLayout.JAVA_INT);
        }

        synchronized void sync() {
            if (closed) {
                return;
            }
            length.set(ValueLayout.JAVA_INT, 0, Packet.STATS_V3_SIZE);
            if (caller.getSockOpt(fd, Packet.SOL_PACKET, Packet.PACKET_STATISTICS, out, length) < 0) {
                return;
            }
            stats.add(NicCounter.PACKET_RX_RING_FULL, Integer.toUnsignedLong(out.get(ValueLayout.JAVA_INT, 4)));
            stats.add(NicCounter.PACKET_RX_FREEZES, Integer.toUnsignedLong(out.get(ValueLayout.JAVA_INT, 8)));
        }

        /** The last sync, after which the socket may close: no sync runs after this returns. */
        synchronized void closing() {
            sync();
            closed = true;
        }
    }
}
