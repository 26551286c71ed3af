package io.slipstream.driver.xdp;

import io.slipstream.buffer.BufferOwner;
import io.slipstream.buffer.BufferPool;
import io.slipstream.buffer.PacketBuffer;
import io.slipstream.controlplane.KernelControlPlane;
import io.slipstream.driver.poll.PollInterrupt;
import io.slipstream.linux.Errno;
import io.slipstream.linux.EventFd;
import io.slipstream.linux.Libc;
import io.slipstream.linux.Xsk;
import io.slipstream.nic.EventHandler;
import io.slipstream.nic.EventQueue;
import io.slipstream.nic.FlowSteering;
import io.slipstream.nic.HostControlPlane;
import io.slipstream.nic.Interrupt;
import io.slipstream.nic.NicConfig;
import io.slipstream.nic.NicCounter;
import io.slipstream.nic.NicException;
import io.slipstream.nic.NicStats;
import io.slipstream.nic.NicTimer;
import io.slipstream.nic.RxRing;
import io.slipstream.nic.TxRing;
import io.slipstream.nic.AbstractVirtualInterface;
import io.slipstream.time.Clock;
import io.slipstream.wire.Ethernet;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Optional;

/**
 * A virtual interface on AF_XDP: one XSK socket per receive queue of a Linux interface, all
 * sharing one UMEM that is the stack's buffer pool, and an XDP program that steers to them only
 * the flows Slipstream owns ({@link #filters()}); the kernel keeps the rest of the interface,
 * its address included. The stack's MAC is the interface's own.
 *
 * <p>Rx: posting a buffer writes its chunk address to the fill ring of the queue holding the
 * fewest; polling reads the rx rings. Tx goes out on queue 0's socket: posting writes a
 * descriptor, the doorbell publishes them and kicks the kernel (sendto) only when it set
 * XDP_RING_NEED_WAKEUP; completions come back on that socket's completion ring. Every ring
 * access is a memory access: no system call on the data path unless the kernel asks for one.
 *
 * <p>Buffers lent to the kernel are owned by {@code rxOwner} or {@code txOwner}; close takes
 * every one back, whatever ring it was in.
 *
 * <p>The kernel keeps the interface's address, answers ARP for it and resolves neighbours, so
 * the interface mirrors the kernel's view of it ({@link KernelControlPlane}, opened and closed
 * with it) and gives that to its stack as the {@link #hostControlPlane()}: the stack's address,
 * routes and neighbours are the kernel's, and the stack speaks no ARP.
 */
public final class XdpInterface extends AbstractVirtualInterface {
    private static final System.Logger LOG = System.getLogger("io.slipstream.driver.xdp");
    private static final int FRAME_OVERHEAD = Ethernet.HEADER_LENGTH + Ethernet.VLAN_TAG_LENGTH;
    /** Kicks repeated at most this often in one doorbell (copy mode sends a batch per sendto). */
    private static final int MAX_KICKS_PER_DOORBELL = 64;

    private final int ifindex;
    private final int maxFrame;
    private final Clock clock;
    private final Arena arena;
    /** The stack side's calls (kicks); the interrupt thread and stats readers have their own. */
    private final Xsk xsk;
    private final Umem umem;
    private final XskSocket[] queues;
    private final int[] lent;
    /** Frames delivered per queue (index into {@link #queueIds()}); written by the stack side. */
    private final long[] receivedPerQueue;
    private final XskSocket txSocket;
    private final XdpSteering steering;
    /** The kernel's addresses, routes and neighbours for this interface; its own thread keeps it current. */
    private final KernelControlPlane controlPlane;
    private final PollInterrupt interrupt;
    private final BufferOwner rxOwner;
    private final BufferOwner txOwner;
    private final int rxCapacity;
    private int rxLent;
    /** Tx descriptors written since the last doorbell. */
    private int txWritten;
    private int txOutstanding;
    private boolean txKickPending;
    /** Frames refused before the ring (oversize, runt): completed at the next poll. */
    private final PacketBuffer[] txRefused;
    private int txRefusedCount;
    private final KernelCounters kernelCounters;
    private final Rx rx = new Rx();
    private final Tx tx = new Tx();
    private final Events events = new Events();
    private volatile boolean closed;

    private XdpInterface(NicConfig config, Clock clock, Arena arena, Xsk xsk, int ifindex, long mac, Umem umem,
                         XskSocket[] queues, XdpSteering steering, KernelControlPlane controlPlane, EventFd eventFd) {
        super("xdp " + config.interfaceName(), config.interfaceName(), mac, config.mtu());
        String name = config.interfaceName();
        this.ifindex = ifindex;
        this.maxFrame = config.mtu() + FRAME_OVERHEAD;
        this.clock = clock;
        this.arena = arena;
        this.xsk = xsk;
        this.umem = umem;
        this.queues = queues;
        this.lent = new int[queues.length];
        this.receivedPerQueue = new long[queues.length];
        this.txSocket = queues[0];
        this.steering = steering;
        this.controlPlane = controlPlane;
        this.rxOwner = new BufferOwner("xdp " + name + " rx rings");
        this.txOwner = new BufferOwner("xdp " + name + " tx ring");
        this.rxCapacity = config.rxRingSize();
        this.txRefused = new PacketBuffer[config.txRingSize()];
        int[] fds = new int[queues.length];
        for (int i = 0; i < queues.length; i++) {
            fds[i] = queues[i].fd;
        }
        this.interrupt = new PollInterrupt("xdp " + name, fds, eventFd, clock, stats, arena);
        this.kernelCounters = new KernelCounters(new Xsk(new Libc(arena), arena), arena);
        attach(umem.pool(), rx, tx, events, interrupt.timer(), interrupt);
    }

    /**
     * Opens the interface {@code config.interfaceName()}: its control plane, UMEM, sockets,
     * program, link. Called in the interface's network namespace ({@link XdpNamespace#run}).
     */
    static XdpInterface open(NicConfig config, XdpOptions options, Clock clock) {
        String name = config.interfaceName();
        Arena arena = Arena.ofShared();
        Libc libc = new Libc(arena);
        Xsk xsk = new Xsk(libc, arena);
        Umem umem = null;
        XskSocket[] queues = null;
        XdpSteering steering = null;
        KernelControlPlane controlPlane = null;
        EventFd eventFd = null;
        try {
            int ifindex = xsk.ifIndex(name);
            if (ifindex == 0) {
                throw new NicException(NicException.Kind.NOT_FOUND, "xdp " + name + ": no such interface (" + libc.failure("if_nametoindex") + ")");
            }
            try {
                controlPlane = KernelControlPlane.open(name);
            } catch (IOException e) {
                throw new NicException("xdp " + name + ": cannot mirror its addresses, routes and neighbours from the"
                        + " kernel: " + e.getMessage(), e);
            }
            long mac = controlPlane.snapshot().mac();
            if (mac == -1) {
                throw new NicException(NicException.Kind.INVALID_CONFIG, "xdp " + name
                        + ": the kernel reports no Ethernet address for it (not an Ethernet interface)");
            }
            int rxQueues = options.namespace().rxQueueCount(name);
            int[] queueIds = options.queues(rxQueues);
            if (config.mtu() + FRAME_OVERHEAD > config.frameSize() - Xsk.XDP_PACKET_HEADROOM) {
                throw new NicException(NicException.Kind.INVALID_CONFIG, "xdp " + name + ": MTU " + config.mtu() + " does not fit a " + config.frameSize()
                        + "-byte chunk after the kernel's " + Xsk.XDP_PACKET_HEADROOM + "-byte headroom");
            }
            // Attached first, so an interface another tool holds is refused before anything else is
            // touched. Until the sockets are in the XSKMAP the program passes everything on.
            steering = XdpSteering.load(name, options.namespace(), ifindex, rxQueues, options.maxConnections(),
                    options.maxListeners());
            XdpSteering.Mode mode = steering.attach(options.allowNative(), options.allowGeneric());
            umem = Umem.allocate(name, libc, config.bufferCount(), config.frameSize());
            int ringSize = Math.max(config.rxRingSize(), config.txRingSize());
            queues = new XskSocket[queueIds.length];
            for (int i = 0; i < queueIds.length; i++) {
                queues[i] = XskSocket.open(xsk, name, ifindex, queueIds[i], umem, i == 0 ? null : queues[0], ringSize,
                        i == 0, options.bindMode());
                steering.register(queues[i].queueId, queues[i].fd);
            }
            try {
                eventFd = EventFd.open(libc, arena);
            } catch (IOException e) {
                throw new NicException("xdp " + name + ": " + e.getMessage(), e);
            }
            XdpInterface vi = new XdpInterface(config, clock, arena, xsk, ifindex, mac, umem, queues, steering,
                    controlPlane, eventFd);
            vi.announceMode(mode);
            return vi;
        } catch (RuntimeException | Error e) {
            if (eventFd != null) {
                eventFd.close(libc);
            }
            if (controlPlane != null) {
                controlPlane.close();
            }
            if (steering != null) {
                steering.close();
            }
            if (queues != null) {
                for (XskSocket q : queues) {
                    if (q != null) {
                        q.close();
                    }
                }
            }
            if (umem != null) {
                umem.close();
            }
            arena.close();
            throw e;
        }
    }

    private void announceMode(XdpSteering.Mode mode) {
        int zeroCopy = 0;
        for (XskSocket q : queues) {
            zeroCopy += q.zeroCopy() ? 1 : 0;
        }
        stats.add(NicCounter.XDP_ZEROCOPY_QUEUES, zeroCopy);
        stats.add(NicCounter.XDP_COPY_QUEUES, queues.length - zeroCopy);
        stats.increment(mode == XdpSteering.Mode.NATIVE ? NicCounter.XDP_NATIVE : NicCounter.XDP_GENERIC);
        int zc = zeroCopy;
        LOG.log(System.Logger.Level.INFO, () -> "Slipstream xdp " + name() + ": " + queues.length + " queue(s), "
                + (zc == queues.length ? "zero-copy" : zc == 0 ? "copy mode" : zc + " zero-copy") + ", XDP program in "
                + (mode == XdpSteering.Mode.NATIVE ? "native" : "generic (SKB)") + " mode");
    }

    /** The stack's TCP and UDP layers steer their flows here (listen, bind, connect, close). */
    @Override
    public FlowSteering steering() {
        return steering.filters();
    }

    public XdpFilters filters() {
        return steering.filters();
    }

    /** The kernel's addresses, routes and neighbours for this interface: the stack's, since it shares them. */
    @Override
    public Optional<HostControlPlane> hostControlPlane() {
        return Optional.of(controlPlane);
    }

    /** The same, with its snapshot and counters (diagnostics, tests). */
    public KernelControlPlane controlPlane() {
        return controlPlane;
    }

    /** Whether every queue's socket is bound in zero-copy mode. */
    public boolean zeroCopy() {
        for (XskSocket q : queues) {
            if (!q.zeroCopy()) {
                return false;
            }
        }
        return true;
    }

    /** Whether the XDP program runs in the driver (native) rather than the generic path. */
    public boolean nativeMode() {
        return steering.mode() == XdpSteering.Mode.NATIVE;
    }

    /** The receive queues this interface has a socket on. */
    public int[] queueIds() {
        int[] ids = new int[queues.length];
        for (int i = 0; i < queues.length; i++) {
            ids[i] = queues[i].queueId;
        }
        return ids;
    }

    /** Frames delivered from the socket of {@code queueIds()[index]}; read by the stack side. */
    public long framesReceived(int index) {
        return receivedPerQueue[index];
    }

    public int ifindex() {
        return ifindex;
    }

    /**
     * The driver's counters, with the kernel's per-socket drop counters brought up to date: a
     * getsockopt per queue here, when someone reads them, rather than on the data path (where a
     * periodic one showed up as heap allocation in the steady-state test).
     */
    @Override
    public NicStats stats() {
        kernelCounters.sync();
        return stats;
    }

    /**
     * Stops the control plane, detaches the program (closing the link), closes the sockets and
     * maps, takes back every buffer the rings held and unmaps the UMEM. Called by the stack side.
     */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        controlPlane.close(); // first: no change report reaches a stack that is going away
        kernelCounters.closing();
        interrupt.close();
        steering.close();
        for (XskSocket q : queues) {
            q.close();
        }
        for (int i = 0; i < buffers().capacity(); i++) {
            PacketBuffer b = buffers().buffer(i);
            if (b.owner() == rxOwner) {
                b.release(rxOwner);
            } else if (b.owner() == txOwner) {
                b.release(txOwner);
            }
        }
        rxLent = 0;
        txOutstanding = 0;
        txRefusedCount = 0;
        umem.close();
        arena.close();
    }

    @Override
    public String toString() {
        return "xdp[" + name() + (closed ? ", closed]" : "]");
    }

    private void checkOpen() {
        if (closed) {
            throw new NicException("xdp " + name() + " is closed");
        }
    }

    private void checkLendable(PacketBuffer b) {
        checkOpen();
        if (b.pool() != buffers()) {
            throw new IllegalArgumentException("buffer " + b.index() + " is not from xdp " + name() + "'s pool");
        }
        if (b.owner() != stackOwner()) {
            throw new IllegalStateException("buffer " + b.index() + " is owned by " + b.owner() + ", not " + stackOwner());
        }
    }

    /** Publishes the tx descriptors written since the last doorbell and kicks the kernel if it asks. */
    private void ringTx() {
        if (txWritten > 0) {
            txSocket.tx.submit(txWritten);
            txWritten = 0;
            txKickPending = true;
        }
        if (!txKickPending) {
            return;
        }
        txKickPending = false;
        for (int kicks = 0; kicks < MAX_KICKS_PER_DOORBELL && txSocket.tx.needsWakeup(); kicks++) {
            stats.increment(NicCounter.TX_KICKS);
            int before = txSocket.tx.pending();
            if (xsk.kickTx(txSocket.fd) >= 0) {
                return;
            }
            int after = txSocket.tx.pending();
            if (after == 0) {
                return;
            }
            if (after < before) {
                continue; // copy mode sent a batch and asks for another call (EAGAIN)
            }
            // Nothing went: kick once more, learning why (off the path a busy ring takes).
            stats.increment(NicCounter.TX_KICKS);
            if (xsk.kickTxReportingErrno(txSocket.fd) >= 0) {
                return;
            }
            int errno = xsk.libc().errno();
            if (errno == Errno.EINTR) {
                continue;
            }
            if (errno == Errno.EAGAIN || errno == Errno.EBUSY || errno == Errno.ENOBUFS) {
                // Copy mode sends a batch per call, and a busy device asks us to come back.
                if (txSocket.tx.pending() == 0) {
                    return;
                }
                if (errno != Errno.EAGAIN) {
                    txKickPending = true; // the next poll tries again
                    return;
                }
                continue;
            }
            stats.increment(NicCounter.TX_ERRORS); // ENETDOWN, ENXIO: the frames stay until completion or close
            return;
        }
        if (txSocket.tx.pending() > 0 && txSocket.tx.needsWakeup()) {
            txKickPending = true;
        }
    }

    private final class Rx implements RxRing {
        @Override
        public boolean post(PacketBuffer empty) {
            checkLendable(empty);
            if (rxLent >= rxCapacity) {
                return false;
            }
            int q = 0;
            for (int i = 1; i < queues.length; i++) {
                if (lent[i] < lent[q]) {
                    q = i;
                }
            }
            XskRing fill = queues[q].fill;
            if (lent[q] >= fill.size() || fill.free(1) == 0) {
                return false;
            }
            empty.transfer(stackOwner(), rxOwner);
            fill.putAddress(fill.producerIndex(), umem.address(empty.index(), 0));
            fill.submit(1);
            lent[q]++;
            rxLent++;
            return true;
        }

        @Override
        public int capacity() {
            return rxCapacity;
        }

        @Override
        public int posted() {
            return rxLent;
        }
    }

    private final class Tx implements TxRing {
        @Override
        public boolean post(PacketBuffer frame) {
            checkLendable(frame);
            int length = frame.length();
            if (length < Ethernet.HEADER_LENGTH || length > maxFrame) {
                if (txRefusedCount == txRefused.length) {
                    return false;
                }
                frame.transfer(stackOwner(), txOwner);
                txRefused[txRefusedCount++] = frame;
                stats.incrementLocked(NicCounter.TX_ERRORS);
                return true;
            }
            XskRing ring = txSocket.tx;
            if (txOutstanding >= ring.size() || ring.free(txWritten + 1) <= txWritten) {
                return false;
            }
            frame.transfer(stackOwner(), txOwner);
            ring.putDescriptor(ring.producerIndex() + txWritten, umem.address(frame.index(), frame.offset()), length);
            txWritten++;
            txOutstanding++;
            stats.incrementLocked(NicCounter.TX_FRAMES);
            stats.addLocked(NicCounter.TX_BYTES, length);
            return true;
        }

        @Override
        public void doorbell() {
            checkOpen();
            ringTx();
        }

        @Override
        public int capacity() {
            return txSocket.tx.size();
        }

        @Override
        public int posted() {
            return txOutstanding + txRefusedCount;
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
            if (txKickPending) {
                ringTx();
            }
            delivered += completions(handler, limit - delivered);
            if (delivered < limit && interrupt.expireTimer(clock.nanoTime())) {
                stats.increment(NicCounter.TIMER_EVENTS);
                handler.onTimer();
                delivered++;
            }
            for (int i = 0; i < queues.length && delivered < limit; i++) {
                delivered += receive(queues[i], i, handler, limit - delivered);
            }
            return delivered;
        }

        private int completions(EventHandler handler, int limit) {
            int delivered = 0;
            while (txRefusedCount > 0 && delivered < limit) {
                PacketBuffer b = txRefused[--txRefusedCount];
                txRefused[txRefusedCount] = null;
                b.transfer(txOwner, stackOwner());
                handler.onTxComplete(b);
                delivered++;
            }
            XskRing ring = txSocket.completion;
            int n = Math.min(ring.available(), limit - delivered);
            int at = ring.consumerIndex();
            for (int i = 0; i < n; i++) {
                PacketBuffer b = bufferAt(ring.address(at + i), txOwner);
                if (b != null) {
                    txOutstanding--;
                    b.transfer(txOwner, stackOwner());
                    handler.onTxComplete(b);
                    delivered++;
                }
            }
            if (n > 0) {
                ring.release(n);
            }
            return delivered;
        }

        private int receive(XskSocket q, int queueIndex, EventHandler handler, int limit) {
            XskRing ring = q.rx;
            int n = Math.min(ring.available(), limit);
            if (n == 0) {
                if (lent[queueIndex] > 0 && q.fill.needsWakeup()) {
                    stats.increment(NicCounter.RX_KICKS);
                    xsk.kickRx(q.fd); // zero-copy drivers refill from the fill ring when asked
                }
                return 0;
            }
            int at = ring.consumerIndex();
            int delivered = 0;
            for (int i = 0; i < n; i++) {
                long address = ring.address(at + i);
                int length = ring.length(at + i);
                PacketBuffer b = bufferAt(address, rxOwner);
                if (b == null) {
                    continue;
                }
                int offset = umem.offsetOf(address);
                if (length > maxFrame || length > b.capacity() - offset || length < Ethernet.HEADER_LENGTH) {
                    stats.incrementLocked(NicCounter.RX_OVERSIZE);
                    // The buffer stays lent: straight back to its fill ring. There is room, since
                    // this queue never has more buffers lent than its fill ring has slots, and the
                    // kernel has read this buffer's old entry (it filled the buffer).
                    XskRing fill = q.fill;
                    fill.putAddress(fill.producerIndex(), umem.address(b.index(), 0));
                    fill.submit(1);
                    continue;
                }
                lent[queueIndex]--;
                receivedPerQueue[queueIndex]++;
                rxLent--;
                b.setRange(offset, length);
                b.transfer(rxOwner, stackOwner());
                stats.incrementLocked(NicCounter.RX_FRAMES);
                stats.addLocked(NicCounter.RX_BYTES, length);
                handler.onRx(b);
                delivered++;
            }
            ring.release(n);
            return delivered;
        }

        /** The buffer a descriptor names, if {@code expected} lent it; else counted and null. */
        private PacketBuffer bufferAt(long address, BufferOwner expected) {
            int index = umem.chunkOf(address);
            if (address < 0 || index >= buffers().capacity() || buffers().buffer(index).owner() != expected) {
                stats.incrementLocked(NicCounter.XDP_INVALID_DESCRIPTORS);
                return null;
            }
            return buffers().buffer(index);
        }

        @Override
        public boolean hasEvents() {
            if (closed) {
                return false;
            }
            if (txRefusedCount > 0 || txKickPending || interrupt.wakeupPending()
                    || interrupt.timerExpired(clock.nanoTime()) || txSocket.completion.available() > 0) {
                return true;
            }
            for (XskSocket q : queues) {
                if (q.rx.available() > 0) {
                    return true;
                }
            }
            return false;
        }
    }

    /**
     * The kernel's per-socket XDP_STATISTICS, folded into the NicStats as deltas: frames dropped
     * for want of a fill buffer (rx_dropped), for want of room in the rx ring (rx_ring_full), and
     * invalid descriptors. Any thread may sync; one at a time.
     */
    private final class KernelCounters {
        private final Xsk caller;
        private final MemorySegment out;
        private final long[][] last;

        KernelCounters(Xsk caller, Arena arena) {
            this.caller = caller;
            this.out = arena.allocate(Xsk.STATISTICS_SIZE, 8);
            this.last = new long[queues.length][3];
        }

        synchronized void sync() {
            if (closed) {
                return;
            }
            for (int i = 0; i < queues.length; i++) {
                if (!queues[i].statistics(caller, out)) {
                    continue;
                }
                long[] prev = last[i];
                long dropped = out.get(ValueLayout.JAVA_LONG, 0);
                long invalid = out.get(ValueLayout.JAVA_LONG, 8) + out.get(ValueLayout.JAVA_LONG, 16);
                long ringFull = out.get(ValueLayout.JAVA_LONG, 24);
                stats.add(NicCounter.RX_NO_BUFFER, dropped - prev[0]);
                stats.add(NicCounter.XDP_INVALID_DESCRIPTORS, invalid - prev[1]);
                stats.add(NicCounter.XDP_RX_RING_FULL, ringFull - prev[2]);
                prev[0] = dropped;
                prev[1] = invalid;
                prev[2] = ringFull;
            }
        }

        /** The last sync, after which the sockets may close: no sync runs after this returns. */
        synchronized void closing() {
            sync();
            closed = true;
        }
    }
}
