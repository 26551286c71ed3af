package io.slipstream.stack;

import io.slipstream.buffer.BufferOwner;
import io.slipstream.buffer.BufferPool;
import io.slipstream.buffer.PacketBuffer;
import io.slipstream.config.Settings;
import io.slipstream.config.StackConfig;
import io.slipstream.ip.ArpTable;
import io.slipstream.ip.IcmpLayer;
import io.slipstream.ip.Ipv4Layer;
import io.slipstream.ip.Ipv4Transport;
import io.slipstream.ip.LinkOutput;
import io.slipstream.ip.RoutingTable;
import io.slipstream.nic.EventHandler;
import io.slipstream.nic.NicConfig;
import io.slipstream.nic.NicDriver;
import io.slipstream.nic.NicTimer;
import io.slipstream.nic.VirtualInterface;
import io.slipstream.stats.Counters;
import io.slipstream.time.Clock;
import io.slipstream.time.Timers;
import io.slipstream.udp.UdpLayer;
import io.slipstream.wire.Arp;
import io.slipstream.wire.Ethernet;
import io.slipstream.wire.MacAddress;
import io.slipstream.wire.WireError;
import java.lang.foreign.MemorySegment;
import java.security.SecureRandom;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * One user-level TCP/IP stack on one virtual interface: the event loop that turns NIC events
 * into protocol processing, the link level (Ethernet demux, transmit, loopback) and the layers
 * above it (ARP, IPv4, ICMP, UDP, and TCP when registered).
 *
 * <p>Processing happens in whichever thread calls {@link #poll()}, under the {@link StackLock};
 * socket operations of the core API are made under the same lock. Frames sent while not
 * polling ring the doorbell at once (latency); frames sent while polling share one doorbell
 * at the end of the pass.
 */
public final class Stack implements AutoCloseable {
    /** Events handled per poll pass, so one pass never monopolises the lock. */
    public static final int DEFAULT_POLL_BUDGET = 64;
    private static final int TX_BACKLOG = 1024;
    private static final int LOOPBACK_QUEUE = 256;
    private static final MemorySegment ZEROS = MemorySegment.ofArray(new byte[Ethernet.MIN_FRAME_LENGTH]);

    private final StackConfig config;
    private final Clock clock;
    private final VirtualInterface nic;
    private final BufferPool frames;
    private final BufferPool jumbo;
    private final BufferOwner owner;
    private final BufferOwner loopbackOwner = new BufferOwner("loopback");
    private final StackLock lock = new StackLock();
    private final Timers timers;
    private final Counters<StackCounter> counters = new Counters<>(StackCounter.class);
    private final Counters<WireError> wireErrors = new Counters<>(WireError.class);
    private final Ipv4Layer ip;
    private final UdpLayer udp;
    private final long mac;
    private final SplittableRandom random;
    private final Link link = new Link();
    private final Events events = new Events();

    private final PacketBuffer[] txBacklog = new PacketBuffer[TX_BACKLOG];
    private int txBacklogHead;
    private int txBacklogCount;
    private final PacketBuffer[] loopback = new PacketBuffer[LOOPBACK_QUEUE];
    private int loopbackHead;
    private int loopbackCount;
    private boolean polling;
    private boolean txPending;
    private long armedDeadline = NicTimer.DISARMED;
    private RuntimeException firstInternalError;
    private boolean closed;

    private Stack(StackConfig config, VirtualInterface nic, Clock clock) {
        this.config = config;
        this.clock = clock;
        this.nic = nic;
        this.frames = nic.buffers();
        this.owner = nic.stackOwner();
        this.mac = nic.mac();
        Settings s = config.settings();
        this.random = s.has("slipstream.random.seed")
                ? new SplittableRandom(s.getLong("slipstream.random.seed", 0, Long.MIN_VALUE, Long.MAX_VALUE))
                : new SplittableRandom(new SecureRandom().nextLong());
        this.timers = new Timers(clock);
        int slots = s.getInt("slipstream.ip.reassembly.slots", Ipv4Layer.DEFAULT_REASSEMBLY_SLOTS, 0, 1024);
        this.jumbo = BufferPool.allocate(slots + s.getInt("slipstream.ip.jumbo.buffers", 8, 1, 1024),
                BufferPool.MAX_FRAME_SIZE);
        long reassemblyTimeout = s.getLong("slipstream.ip.reassembly.timeout.ms", 30_000, 1, 3_600_000) * 1_000_000L;
        RoutingTable routes = new RoutingTable(config.address(), config.prefixLength(), config.gateway());
        this.ip = new Ipv4Layer(frames, jumbo, link, routes, nic.mtu(), timers, wireErrors, slots,
                reassemblyTimeout, random.nextInt());
        this.udp = new UdpLayer(ip, wireErrors, random.split(),
                s.getInt("slipstream.udp.rcvbuf", 256 * 1024, 2048, 1 << 30));
        ip.register(udp);
    }

    /** Opens the interface the configuration names and starts a stack on it. */
    public static Stack open(StackConfig config) {
        return open(config, Clock.SYSTEM);
    }

    public static Stack open(StackConfig config, Clock clock) {
        Settings s = config.settings();
        NicConfig nicConfig = new NicConfig(config.interfaceName(), config.mac(),
                s.getInt("slipstream.mtu", NicConfig.DEFAULT_MTU, 576, 9000),
                s.getInt("slipstream.nic.rx.ring", NicConfig.DEFAULT_RING_SIZE, 8, 1 << 16),
                s.getInt("slipstream.nic.tx.ring", NicConfig.DEFAULT_RING_SIZE, 8, 1 << 16),
                s.getInt("slipstream.nic.buffers", NicConfig.DEFAULT_BUFFER_COUNT, 64, 1 << 22),
                BufferPool.DEFAULT_FRAME_SIZE, s.asMap());
        VirtualInterface vi = NicDriver.byName(config.driver()).open(nicConfig, clock);
        return start(config, vi, clock);
    }

    /** Starts a stack on an interface opened by the caller; the stack closes it. */
    public static Stack start(StackConfig config, VirtualInterface vi, Clock clock) {
        Stack stack;
        try {
            stack = new Stack(config, vi, clock);
        } catch (RuntimeException e) {
            vi.close();
            throw e;
        }
        stack.lock.lock();
        try {
            stack.refillRx();
            stack.ip.arp().announce();
            stack.flush();
        } finally {
            stack.lock.unlock();
        }
        return stack;
    }

    public StackConfig config() {
        return config;
    }

    public Clock clock() {
        return clock;
    }

    public VirtualInterface nic() {
        return nic;
    }

    public StackLock lock() {
        return lock;
    }

    public Timers timers() {
        return timers;
    }

    public Ipv4Layer ip() {
        return ip;
    }

    public ArpTable arp() {
        return ip.arp();
    }

    public IcmpLayer icmp() {
        return ip.icmp();
    }

    public UdpLayer udp() {
        return udp;
    }

    /** A source of randomness for layers added later (TCP's ISN secret, ephemeral ports). */
    public SplittableRandom random() {
        return random;
    }

    public int address() {
        return config.address();
    }

    public long mac() {
        return mac;
    }

    /** Adds a transport (TCP) above IP. Call before traffic flows. */
    public void register(Ipv4Transport transport) {
        ip.register(transport);
    }

    public Counters<StackCounter> counters() {
        return counters;
    }

    public Counters<WireError> wireErrors() {
        return wireErrors;
    }

    /** The first exception caught at the receive path's last guard, or null. */
    public RuntimeException firstInternalError() {
        return firstInternalError;
    }

    // ---------------------------------------------------------------- processing

    /**
     * Processes up to {@link #DEFAULT_POLL_BUDGET} NIC events, expires due timers, transmits
     * what that produced and re-arms the NIC timer. Takes the stack lock (reentrant).
     * Returns the number of events and timers handled: 0 means the stack was idle.
     */
    public int poll() {
        return poll(DEFAULT_POLL_BUDGET);
    }

    public int poll(int budget) {
        lock.lock();
        try {
            return pollLocked(budget);
        } finally {
            lock.unlock();
        }
    }

    private int pollLocked(int budget) {
        if (closed) {
            return 0;
        }
        counters.increment(StackCounter.POLLS);
        polling = true;
        int work;
        try {
            work = nic.events().poll(events, budget);
            counters.add(StackCounter.EVENTS, work);
            work += drainLoopback();
            if (timers.nextDeadline() - clock.nanoTime() <= 0) {
                work += timers.expire();
            }
            refillRx();
        } finally {
            polling = false;
        }
        flush();
        armNicTimer();
        return work;
    }

    /** Rings the doorbell if frames were posted since the last one. */
    public void flush() {
        if (txPending) {
            txPending = false;
            nic.tx().doorbell();
        }
    }

    private void armNicTimer() {
        long next = timers.nextDeadline();
        if (next != armedDeadline) {
            armedDeadline = next;
            if (next == Long.MAX_VALUE) {
                nic.timer().disarm();
            } else {
                nic.timer().arm(next);
            }
        }
    }

    private void refillRx() {
        while (nic.rx().posted() < nic.rx().capacity()) {
            PacketBuffer b = frames.acquire(owner);
            if (b == null) {
                counters.increment(StackCounter.RX_REFILL_SHORTAGE);
                return;
            }
            b.setRange(0, b.capacity());
            if (!nic.rx().post(b)) {
                b.release(owner);
                return;
            }
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
            counters.increment(StackCounter.INTERNAL_ERRORS);
            if (firstInternalError == null) {
                firstInternalError = e;
            }
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

    private int drainLoopback() {
        int n = 0;
        while (loopbackCount > 0) {
            PacketBuffer f = loopback[loopbackHead];
            loopback[loopbackHead] = null;
            loopbackHead = (loopbackHead + 1) % LOOPBACK_QUEUE;
            loopbackCount--;
            receiveFrame(f, loopbackOwner);
            n++;
        }
        return n;
    }

    // ---------------------------------------------------------------- transmit

    private void transmit(PacketBuffer frame, BufferOwner from) {
        int len = frame.length();
        if (len < Ethernet.MIN_FRAME_LENGTH) {
            // Pad with zeros: the bytes after the frame are a reused buffer's old contents.
            MemorySegment.copy(ZEROS, 0, frame.segment(), frame.offset() + len, Ethernet.MIN_FRAME_LENGTH - len);
            frame.setRange(frame.offset(), Ethernet.MIN_FRAME_LENGTH);
        }
        if (Ethernet.destination(frame.segment(), frame.offset()) == mac) {
            if (loopbackCount == LOOPBACK_QUEUE) {
                counters.increment(StackCounter.LOOPBACK_DROPS);
                frame.release(from);
                return;
            }
            frame.transfer(from, loopbackOwner);
            loopback[(loopbackHead + loopbackCount++) % LOOPBACK_QUEUE] = frame;
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
        } else if (txBacklogCount < TX_BACKLOG) {
            counters.increment(StackCounter.TX_RING_FULL);
            txBacklog[(txBacklogHead + txBacklogCount++) % TX_BACKLOG] = frame;
        } else {
            counters.increment(StackCounter.TX_BACKLOG_DROPS);
            frame.release(owner);
            return;
        }
        if (!polling) {
            flush();
        }
    }

    private void drainTxBacklog() {
        while (txBacklogCount > 0 && nic.tx().post(txBacklog[txBacklogHead])) {
            txBacklog[txBacklogHead] = null;
            txBacklogHead = (txBacklogHead + 1) % TX_BACKLOG;
            txBacklogCount--;
            counters.increment(StackCounter.TX_FRAMES);
            txPending = true;
        }
    }

    private final class Link implements LinkOutput {
        @Override
        public long mac() {
            return mac;
        }

        @Override
        public void transmit(PacketBuffer frame, BufferOwner from) {
            Stack.this.transmit(frame, from);
        }
    }

    private final class Events implements EventHandler {
        @Override
        public void onRx(PacketBuffer frame) {
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
            armedDeadline = NicTimer.DISARMED; // the NIC timer is one-shot
            timers.expire();
        }

        @Override
        public void onWakeup() {
            counters.increment(StackCounter.WAKEUP_EVENTS);
        }
    }

    // ---------------------------------------------------------------- state

    /** Every counter of every layer, by layer, for the stack dump and tests. */
    public Map<String, Map<String, Long>> counterSnapshot() {
        lock.lock();
        try {
            Map<String, Map<String, Long>> m = new LinkedHashMap<>();
            m.put("link", counters.snapshot());
            m.put("malformed", wireErrors.snapshot());
            m.put("arp", ip.arp().counters().snapshot());
            m.put("ip", ip.counters().snapshot());
            m.put("udp", udp.counters().snapshot());
            m.put("nic", nic.stats().snapshot());
            return m;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Stops the stack: releases every buffer it holds (queues, sockets' queues, ARP and
     * reassembly), closes the interface (which returns its rings' buffers) and frees memory.
     * Sockets must not be used afterwards.
     */
    @Override
    public void close() {
        lock.lock();
        try {
            if (closed) {
                return;
            }
            closed = true;
            udp.closeAll();
            ip.close();
            while (loopbackCount > 0) {
                loopback[loopbackHead].release(loopbackOwner);
                loopback[loopbackHead] = null;
                loopbackHead = (loopbackHead + 1) % LOOPBACK_QUEUE;
                loopbackCount--;
            }
            while (txBacklogCount > 0) {
                txBacklog[txBacklogHead].release(owner);
                txBacklog[txBacklogHead] = null;
                txBacklogHead = (txBacklogHead + 1) % TX_BACKLOG;
                txBacklogCount--;
            }
            nic.close();
            jumbo.close();
        } finally {
            lock.unlock();
        }
    }

    public boolean isClosed() {
        return closed;
    }

    /** Buffers the stack itself still holds (0 after close unless something leaked). */
    public int outstandingJumboBuffers() {
        return jumbo.outstanding();
    }

    @Override
    public String toString() {
        return "Stack[" + config.interfaceName() + " " + config + "]";
    }
}
