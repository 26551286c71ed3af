package io.slipstream.stack;

import io.slipstream.config.Setting;
import io.slipstream.buffer.BufferPool;
import io.slipstream.config.Settings;
import io.slipstream.config.StackConfig;
import io.slipstream.ip.ArpTable;
import io.slipstream.ip.IcmpLayer;
import io.slipstream.ip.Ipv4Layer;
import io.slipstream.ip.RoutingTable;
import io.slipstream.nic.HostControlPlane;
import io.slipstream.nic.NicConfig;
import io.slipstream.nic.NicDriver;
import io.slipstream.nic.VirtualInterface;
import io.slipstream.stats.Counters;
import io.slipstream.tcp.TcpConfig;
import io.slipstream.tcp.TcpConnection;
import io.slipstream.tcp.TcpLayer;
import io.slipstream.tcp.TcpState;
import io.slipstream.time.Clock;
import io.slipstream.time.Timers;
import io.slipstream.udp.UdpLayer;
import io.slipstream.wire.WireError;
import java.security.SecureRandom;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.locks.LockSupport;

/**
 * One user-level TCP/IP stack on one virtual interface, and its public face. The stack builds
 * its levels itself: the link level ({@link LinkLevel}: NIC events, Ethernet demux, transmit,
 * loopback), the layers above it (ARP, IPv4, ICMP, UDP, TCP) and the runtime that decides who
 * processes the stack and when ({@link StackRuntime}); its methods delegate to them.
 *
 * <p>Processing happens in whichever thread calls into the stack, under the {@link StackLock}
 * (DESIGN §4): a socket operation brackets itself with {@link #enter()}
 * and {@link #exit()}, which bring the stack up to date on the way in; a blocking operation
 * waits with {@link #await}, which spins polling the stack, then decides whether the NIC
 * interrupt must be enabled (onload's three rules, see {@link StackRuntime#decideInterrupt()}) and parks.
 * The stack's interrupt thread ({@link InterruptThread}) processes the stack when the
 * interrupt fires while threads wait, and rescues a stack whose events wait unpolled.
 * Frames sent while not polling ring the doorbell at once (latency); frames sent while
 * polling share one doorbell at the end of the pass.
 *
 * <p>How a socket layer (the java.nio shim) uses the runtime: every operation runs between
 * {@code enter()} and {@code exit()}; each socket and each selector keeps one {@link WaitQueue}
 * ({@link #newWaitQueue()}) and one {@link WaitCondition}; the socket's readiness listener
 * calls {@code wakeAll()} on its own queue and on the queues of the selectors it is
 * registered with; a blocking call loops "try the operation, else {@link #await}"; a
 * {@code select} calls {@link #pollHook()} once, collects ready keys and otherwise awaits on
 * the selector's queue ({@code Selector.wakeup} is a flag in its condition plus
 * {@code wakeAll()}). {@link #INTERRUPTED} becomes {@code ClosedByInterruptException}. A
 * selector that must also wait on kernel descriptors (or on several stacks) sleeps in its own
 * epoll_wait instead, on {@link #nicDescriptors()} too, armed when {@link #watchNic()} says.
 */
public final class Stack implements AutoCloseable {
    /** Events handled per poll pass, so one pass never monopolises the lock. */
    public static final int DEFAULT_POLL_BUDGET = 64;
    /** Fixes the stack's random choices (ephemeral ports, IP ids, TCP secrets): for reproducible tests only. */
    public static final Setting.Whole RANDOM_SEED =
            new Setting.Whole("slipstream.random.seed", 0, Long.MIN_VALUE, Long.MAX_VALUE, "");
    /** {@link #await} results. */
    public static final int READY = 1;
    public static final int TIMED_OUT = 0;
    /** The waiting thread was interrupted; its interrupt status is left set. */
    public static final int INTERRUPTED = -1;
    public static final int CLOSED = -2;

    private final StackConfig config;
    /** The clock the protocol layers read: once per pass under the lock (see {@link PassClock}). */
    private final PassClock clock;
    private final VirtualInterface nic;
    /** Datagram-sized buffers: IP reassembly, and sending datagrams larger than the MTU. */
    private final BufferPool jumbo;
    private final StackLock lock;
    private final Timers timers;
    // Layer counters are written under the stack lock and read by anyone (snapshots may be a pass old).
    private final Counters<StackCounter> counters = new Counters<>(StackCounter.class);
    private final Counters<WireError> wireErrors = new Counters<>(WireError.class);
    private final LinkLevel link;
    private final Ipv4Layer ip;
    private final UdpLayer udp;
    private final TcpLayer tcp;
    private final StackRuntime runtime;

    /**
     * Settles the stack's identity on the open NIC ({@link StackIdentity}), then builds its
     * levels bottom up: link, IP (with ARP and ICMP), UDP, TCP; then its runtime. On a NIC that
     * shares the host's interface the host routes and resolves for IP and ARP, and each change
     * of its tables wakes the runtime.
     */
    private Stack(StackConfig configured, VirtualInterface nic, PassClock clock, StackLock lock) {
        this.config = StackIdentity.settle(configured, nic);
        this.clock = clock;
        this.lock = lock;
        this.nic = nic;
        Settings s = config.settings();
        boolean seeded = s.has(RANDOM_SEED.name());
        long seed = seeded ? RANDOM_SEED.read(s) : 0;
        SplittableRandom random = new SplittableRandom(seeded ? seed : new SecureRandom().nextLong());
        this.timers = new Timers(clock);
        int slots = Ipv4Layer.REASSEMBLY_SLOTS.readInt(s);
        this.jumbo = BufferPool.allocate(slots + Ipv4Layer.JUMBO_BUFFERS.readInt(s),
                BufferPool.MAX_FRAME_SIZE);
        long reassemblyTimeoutNanos = Ipv4Layer.REASSEMBLY_TIMEOUT_MS.read(s) * 1_000_000L;
        HostControlPlane host = nic.hostControlPlane().orElse(null);
        RoutingTable routes = new RoutingTable(config.address(), config.prefixLength(), config.gateway(), host);
        this.link = new LinkLevel(nic, timers, counters, wireErrors);
        this.ip = new Ipv4Layer(nic.buffers(), jumbo, link, routes, StackIdentity.mtu(nic), timers, wireErrors, slots,
                reassemblyTimeoutNanos, random.nextInt());
        link.upper(ip);
        this.udp = new UdpLayer(ip, wireErrors, random.split(),
                UdpLayer.RECEIVE_BUFFER_BYTES.readInt(s));
        ip.register(udp);
        this.tcp = new TcpLayer(ip, timers, clock, TcpConfig.from(s), tcpSecret(seeded, seed));
        tcp.lockCheck(lock::isHeldByCurrentThread); // for the TCP and UDP entry points' asserts
        udp.lockCheck(lock::isHeldByCurrentThread);
        // A NIC shared with the kernel delivers only the flows the stack owns.
        tcp.steering(nic.steering(), config.address());
        udp.steering(nic.steering(), config.address());
        ip.register(tcp);
        this.runtime = new StackRuntime(RuntimeConfig.from(s, nic.rx().capacity(), nic.mtu()), counters, lock, clock,
                nic, link, timers, ip::hostChanged);
        if (host != null) {
            host.onChange(runtime::hostChanged); // on the host's thread: it only wakes the stack
        }
    }

    /**
     * The 48 bytes keying TCP's ISNs, ephemeral ports and SYN cookies (RFC 6528, RFC 6056):
     * from a SecureRandom, as they must be unguessable, unless {@code slipstream.random.seed}
     * asks for a run that replays exactly (tests only).
     */
    private static byte[] tcpSecret(boolean seeded, long seed) {
        byte[] secret = new byte[48];
        if (seeded) {
            new SplittableRandom(seed).nextBytes(secret);
        } else {
            new SecureRandom().nextBytes(secret);
        }
        return secret;
    }

    /** Opens the interface the configuration names and starts a stack on it. */
    public static Stack open(StackConfig config) {
        return open(config, Clock.SYSTEM);
    }

    public static Stack open(StackConfig config, Clock clock) {
        Settings s = config.settings();
        NicConfig nicConfig = new NicConfig(config.interfaceName(), config.mac(),
                NicConfig.MTU.readInt(s), NicConfig.RX_RING.readInt(s), NicConfig.TX_RING.readInt(s),
                NicConfig.BUFFERS.readInt(s),
                BufferPool.DEFAULT_FRAME_SIZE, s.asMap());
        // The driver gets the pass clock too: its timer check during a poll then costs no reading.
        StackLock lock = new StackLock();
        PassClock passClock = new PassClock(clock, lock);
        VirtualInterface vi = NicDriver.byName(config.driver()).open(nicConfig, passClock);
        return start(config, vi, passClock, lock);
    }

    /**
     * Starts a stack on an interface opened by the caller; the stack closes it (also when the
     * configuration does not fit the interface).
     */
    public static Stack start(StackConfig config, VirtualInterface vi, Clock clock) {
        StackLock lock = new StackLock();
        return start(config, vi, new PassClock(clock, lock), lock);
    }

    private static Stack start(StackConfig config, VirtualInterface vi, PassClock clock, StackLock lock) {
        Stack stack;
        try {
            stack = new Stack(config, vi, clock, lock);
        } catch (RuntimeException e) {
            vi.close();
            throw e;
        }
        stack.lock.deferredWork(stack.runtime::runDeferred);
        stack.lock.lock();
        try {
            stack.link.refillRx();
            stack.ip.arp().announce();
            stack.link.flush();
        } finally {
            stack.lock.unlock();
        }
        stack.runtime.startInterruptThread();
        StackRegistry.opened(stack);
        return stack;
    }

    /** The configuration with the identity the stack settled on: address, prefix, gateway and MAC as used. */
    public StackConfig config() {
        return config;
    }

    /**
     * The clock the protocol layers read: the stack lock's
     * holder is served the reading its pass took, everyone else reads the clock the stack was
     * opened with ({@link PassClock}).
     */
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

    public TcpLayer tcp() {
        return tcp;
    }

    public int address() {
        return config.address();
    }

    public long mac() {
        return link.mac();
    }

    public RuntimeConfig runtimeConfig() {
        return runtime.config();
    }

    /** The runtime's counters: who polled, interrupt decisions per rule, hand-offs, rescues. */
    public RuntimeCounters runtimeCounters() {
        return runtime.counters();
    }

    /** The runtime itself, for the tests that play the interrupt thread. */
    StackRuntime runtime() {
        return runtime;
    }

    public Counters<StackCounter> counters() {
        return counters;
    }

    public Counters<WireError> wireErrors() {
        return wireErrors;
    }

    /** The first exception caught at the receive path's last guard, or null. */
    public RuntimeException firstInternalError() {
        return link.firstInternalError();
    }

    // ---------------------------------------------------------------- the runtime's entry points

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
            return runtime.appPoll(budget);
        } finally {
            lock.unlock();
        }
    }

    /** Whether the packet rate keeps blocked threads polling (adaptive mode). */
    public boolean pollingMode() {
        return runtime.pollingMode();
    }

    /**
     * Entry of every socket operation: takes the stack lock and brings the stack up to date
     * (one bounded poll pass) on the way in. If the lock is busy, its holder is asked to poll
     * ({@link StackLock#POLL_NEEDED}) and this thread waits for the lock without polling
     * itself: the holder's release runs that poll first. Pair with {@link #exit()} in a
     * finally block. Allocates nothing.
     */
    public void enter() {
        runtime.enter();
    }

    /**
     * Leaves the stack: re-arms the NIC timer if the operation scheduled an earlier timer (a
     * send arms the retransmission timer), runs work other threads deferred to us, and
     * releases the lock.
     */
    public void exit() {
        runtime.exit();
    }

    /**
     * The poll hook of {@code select}: when the interrupt is enabled the stack is already up
     * to date (it was updated before enabling, and any event since fires the interrupt), so
     * nothing is done; otherwise one poll pass if the lock is free, or a poll requested from
     * its holder. Never waits. Returns whether this call polled.
     */
    public boolean pollHook() {
        return runtime.pollHook();
    }

    /**
     * The descriptors a thread that waits on kernel descriptors too (a selector with kernel
     * channels beside this stack's) adds to its epoll set so that a frame wakes it: the NIC
     * interrupt's ({@link io.slipstream.nic.Interrupt#descriptors()}), readable while frames
     * wait. Empty for a NIC without any (the in-memory one).
     */
    public int[] nicDescriptors() {
        return nic.interrupt().descriptors();
    }

    /**
     * Whether a thread about to sleep on {@link #nicDescriptors()} itself must watch them,
     * by the interrupt rules (onload's, see {@link StackRuntime#decideInterrupt()}): only when
     * no other thread will poll (the lock is free and uncontended, the interrupt is not
     * enabled, the last poll woke nobody). Otherwise whoever polls makes the waiter's sockets
     * ready and their readiness callbacks wake it. Call right after a {@link #pollHook()}; a
     * watcher arms a level-triggered one-shot registration after this, which sees frames that
     * arrived meanwhile, and on waking calls {@link #serviceNicWatch()}. Counted.
     */
    public boolean watchNic() {
        return runtime.watchNic();
    }

    /** A watcher of {@link #nicDescriptors()} woke on them: counts it and runs the poll hook. */
    public boolean serviceNicWatch() {
        return runtime.serviceNicWatch();
    }

    /**
     * Nanoseconds until the NIC timer armed for the stack's protocol timers (0 if due,
     * {@link Long#MAX_VALUE} if disarmed): how long a watcher of the NIC may sleep before it
     * must poll the stack itself.
     */
    public long nicTimerRemainingNanos() {
        return runtime.nicTimerRemainingNanos();
    }

    /** Pushes waiting frames now, or asks the lock holder to ({@link StackLock#TX_PENDING}). */
    public void requestFlush() {
        runtime.requestFlush();
    }

    /** A wait queue for one socket or selector of this stack (see {@link #await}). */
    public WaitQueue newWaitQueue() {
        return new WaitQueue(runtime);
    }

    /**
     * Blocks the calling thread until {@code condition} holds, {@code timeoutNanos} pass
     * (negative: no limit; 0: check once), the thread is interrupted or the stack closes.
     * Whoever changes what the condition reads must call {@code queue.wakeAll()} afterwards
     * (under the stack lock: TCP and UDP readiness listeners do).
     *
     * <p>First it spins for {@code slipstream.poll.usec}, polling the stack itself (longer while
     * the adaptive mode says packets come fast). Then it enqueues itself, polls once more and
     * applies the interrupt-enable rules, or, if the lock is busy, leaves the poll and the
     * decision to the holder; then it parks until woken. Must not be called with the stack
     * lock held. Allocates nothing once the thread has waited before.
     *
     * @return {@link #READY}, {@link #TIMED_OUT}, {@link #INTERRUPTED} (status left set) or {@link #CLOSED}
     */
    public int await(WaitQueue queue, WaitCondition condition, long timeoutNanos) {
        return runtime.await(queue, condition, timeoutNanos);
    }

    /** Threads currently blocked in {@link #await}. */
    public int blockedThreads() {
        return runtime.blockedThreads();
    }

    /** onload's "interrupts enabled" flag. */
    public boolean interruptsEnabled() {
        return runtime.interruptsEnabled();
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
            m.put("tcp", tcp.counters().snapshot());
            m.put("nic", nic.stats().snapshot());
            m.put("runtime", runtime.counters().snapshot());
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
        runtime.stopInterruptThread();
        StackRegistry.closed(this);
        lock.lock();
        try {
            if (runtime.isClosed()) {
                return;
            }
            runtime.close();
            udp.closeAll();
            tcp.close();
            ip.close();
            link.close();
            nic.close();
            jumbo.close();
        } finally {
            lock.unlock();
        }
    }

    public boolean isClosed() {
        return runtime.isClosed();
    }

    /** One line per layer with its non-zero counters, headed by the NIC's name: what {@code slipstream.exit.counters} prints. */
    public String nonZeroCounters() {
        StringBuilder out = new StringBuilder("slipstream counters of ").append(nic.name()).append(':');
        counterSnapshot().forEach((layer, values) -> { // snapshots hold the non-zero counters only
            if (!values.isEmpty()) {
                out.append("\n  ").append(layer).append(':');
                values.forEach((name, value) -> out.append(' ').append(name).append('=').append(value));
            }
        });
        return out.toString();
    }

    // ---------------------------------------------------------------- exit without loss

    /**
     * At JVM shutdown: every TCP connection that could still deliver what the application
     * wrote gets a FIN after its data (as the kernel does when a process exits), then the
     * stack is processed until every such connection has its data and FIN acknowledged, or
     * {@code slipstream.exit.linger.ms} passes. Returns true if nothing was left behind.
     */
    public boolean drainForExit() {
        long end = System.nanoTime() + runtime.config().exitLingerNanos();
        boolean first = true;
        for (;;) {
            boolean pending;
            enter();
            try {
                if (runtime.isClosed()) {
                    return true;
                }
                pending = exitPending(first);
            } finally {
                exit();
            }
            first = false;
            if (!pending) {
                return true;
            }
            if (System.nanoTime() - end >= 0) {
                return false;
            }
            LockSupport.parkNanos(20_000);
        }
    }

    /** Whether a connection still holds data or a FIN the peer has not acknowledged. */
    private boolean exitPending(boolean closeOutputs) {
        boolean pending = false;
        for (TcpConnection c : tcp.connections()) {
            TcpState st = c.state();
            if (closeOutputs && (st == TcpState.ESTABLISHED || st == TcpState.CLOSE_WAIT)) {
                c.shutdownOutput();
                st = c.state();
            }
            if (c.unacknowledged() > 0 || st == TcpState.SYN_RECEIVED || st == TcpState.ESTABLISHED
                    || st == TcpState.CLOSE_WAIT || st == TcpState.FIN_WAIT_1 || st == TcpState.CLOSING
                    || st == TcpState.LAST_ACK) {
                pending = true;
            }
        }
        return pending;
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
