package io.slipstream.stack;

import io.slipstream.buffer.BufferOwner;
import io.slipstream.buffer.BufferPool;
import io.slipstream.buffer.PacketBuffer;
import io.slipstream.config.Settings;
import io.slipstream.config.StackConfig;
import io.slipstream.ip.ArpTable;
import io.slipstream.ip.IcmpLayer;
import io.slipstream.ip.Ipv4Layer;
import io.slipstream.ip.LinkOutput;
import io.slipstream.ip.RoutingTable;
import io.slipstream.nic.EventHandler;
import io.slipstream.nic.Interrupt;
import io.slipstream.nic.NicConfig;
import io.slipstream.nic.NicDriver;
import io.slipstream.nic.NicTimer;
import io.slipstream.nic.VirtualInterface;
import io.slipstream.stats.Counters;
import io.slipstream.tcp.TcpConfig;
import io.slipstream.tcp.TcpConnection;
import io.slipstream.tcp.TcpLayer;
import io.slipstream.tcp.TcpState;
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
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * One user-level TCP/IP stack on one virtual interface: the event loop that turns NIC events
 * into protocol processing, the link level (Ethernet demux, transmit, loopback) and the layers
 * above it (ARP, IPv4, ICMP, UDP, TCP), which the stack builds itself.
 *
 * <p>Processing happens in whichever thread calls into the stack, under the {@link StackLock}
 * (DESIGN §4): a socket operation brackets itself with {@link #enter()}
 * and {@link #exit()}, which bring the stack up to date on the way in; a blocking operation
 * waits with {@link #await}, which spins polling the stack, then decides whether the NIC
 * interrupt must be enabled (onload's three rules, see {@link #decideInterrupt()}) and parks.
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
 * {@code wakeAll()}). {@link #INTERRUPTED} becomes {@code ClosedByInterruptException}.
 */
public final class Stack implements AutoCloseable {
    /** Events handled per poll pass, so one pass never monopolises the lock. */
    public static final int DEFAULT_POLL_BUDGET = 64;
    /** {@link #await} results. */
    public static final int READY = 1;
    public static final int TIMED_OUT = 0;
    /** The waiting thread was interrupted; its interrupt status is left set. */
    public static final int INTERRUPTED = -1;
    public static final int CLOSED = -2;
    /** A thread blocked with no timeout still looks at the stack's closed flag this often. */
    private static final long CLOSE_CHECK_NANOS = 250_000_000L;
    /** Window over which the packet rate is measured for the adaptive mode. */
    private static final long RATE_WINDOW_NANOS = 1_000_000L;
    private static final int TX_BACKLOG = 1024;
    private static final int LOOPBACK_QUEUE = 256;
    private static final MemorySegment ZEROS = MemorySegment.ofArray(new byte[Ethernet.MIN_FRAME_LENGTH]);

    private final StackConfig config;
    /** The clock the protocol layers read: once per pass under the lock (see {@link PassClock}). */
    private final PassClock clock;
    private final VirtualInterface nic;
    private final BufferPool frames;
    private final BufferPool jumbo;
    private final BufferOwner owner;
    private final BufferOwner loopbackOwner = new BufferOwner("loopback");
    private final StackLock lock;
    private final Timers timers;
    private final Counters<StackCounter> counters = new Counters<>(StackCounter.class);
    private final Counters<WireError> wireErrors = new Counters<>(WireError.class);
    private final Ipv4Layer ip;
    private final UdpLayer udp;
    private final TcpLayer tcp;
    private final long mac;
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
    private volatile boolean closed;
    /** Rx buffers lent to the NIC and not yet back in an RX event (refillRx). */
    private int rxLent;

    // ---- runtime (DESIGN §4)
    private final RuntimeConfig runtime;
    private final RuntimeCounters runtimeCounters = new RuntimeCounters();
    private final ThreadLocal<Waiter> waiters = ThreadLocal.withInitial(Waiter::new);
    /** Threads parked in {@link #await} (or about to park): the interrupt is only for them. */
    private final AtomicInteger blocked = new AtomicInteger();
    /** onload's flag: the interrupt is armed (or fired and not yet serviced), so the stack is up to date. */
    private volatile boolean interruptsEnabled;
    /** Rule 3: the last poll pass woke blocked threads. */
    private volatile boolean lastPollWoke;
    private int wokenThisPass;
    private volatile long lastPollNanos = System.nanoTime();
    private volatile long lastAppPollNanos = System.nanoTime();
    private long rateWindowStart = System.nanoTime();
    private long rateWindowEvents;
    private volatile boolean pollingMode;
    private InterruptThread interruptThread;

    private Stack(StackConfig config, VirtualInterface nic, PassClock clock, StackLock lock) {
        this.config = config;
        this.clock = clock;
        this.lock = lock;
        this.nic = nic;
        this.frames = nic.buffers();
        this.owner = nic.stackOwner();
        this.mac = nic.mac();
        Settings s = config.settings();
        this.runtime = RuntimeConfig.from(s, nic.rx().capacity(), nic.mtu());
        boolean seeded = s.has("slipstream.random.seed");
        long seed = seeded ? s.getLong("slipstream.random.seed", 0, Long.MIN_VALUE, Long.MAX_VALUE) : 0;
        SplittableRandom random = new SplittableRandom(seeded ? seed : new SecureRandom().nextLong());
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
        this.tcp = new TcpLayer(ip, timers, clock, TcpConfig.from(s), tcpSecret(seeded, seed));
        ip.register(tcp);
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
                s.getInt("slipstream.mtu", NicConfig.DEFAULT_MTU, 576, 9000),
                s.getInt("slipstream.nic.rx.ring", NicConfig.DEFAULT_RING_SIZE, 8, 1 << 16),
                s.getInt("slipstream.nic.tx.ring", NicConfig.DEFAULT_RING_SIZE, 8, 1 << 16),
                s.getInt("slipstream.nic.buffers", NicConfig.DEFAULT_BUFFER_COUNT, 64, 1 << 22),
                BufferPool.DEFAULT_FRAME_SIZE, s.asMap());
        // The driver gets the pass clock too: its timer check during a poll then costs no reading.
        StackLock lock = new StackLock();
        PassClock passClock = new PassClock(clock, lock);
        VirtualInterface vi = NicDriver.byName(config.driver()).open(nicConfig, passClock);
        return start(config, vi, passClock, lock);
    }

    /** Starts a stack on an interface opened by the caller; the stack closes it. */
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
        stack.lock.deferredWork(stack::runDeferred);
        stack.lock.lock();
        try {
            stack.refillRx();
            stack.ip.arp().announce();
            stack.flush();
        } finally {
            stack.lock.unlock();
        }
        if (stack.runtime.interruptThread()) {
            stack.interruptThread = new InterruptThread(stack);
            stack.interruptThread.start();
        }
        StackRegistry.opened(stack);
        return stack;
    }

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
        return mac;
    }

    public RuntimeConfig runtimeConfig() {
        return runtime;
    }

    /** The runtime's counters: who polled, interrupt decisions per rule, hand-offs, rescues. */
    public RuntimeCounters runtimeCounters() {
        return runtimeCounters;
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
            return appPoll(budget);
        } finally {
            lock.unlock();
        }
    }

    /** A poll pass by an application thread (under the lock). */
    private int appPoll(int budget) {
        runtimeCounters.incrementLocked(RuntimeCounter.APP_POLLS); // written under the lock only
        int work = pollLocked(budget);
        lastAppPollNanos = lastPollNanos; // the pass's own reading
        return work;
    }

    private int pollLocked(int budget) {
        if (closed) {
            return 0;
        }
        counters.increment(StackCounter.POLLS);
        // The pass's one reading of the time: the runtime's (stall watch, packet rate) and, on
        // the system clock, the protocol layers' too.
        long systemNow = System.nanoTime();
        long now = clock.refresh(systemNow);
        polling = true;
        wokenThisPass = 0;
        int work;
        int nicEvents;
        try {
            nicEvents = nic.events().poll(events, budget);
            counters.add(StackCounter.EVENTS, nicEvents);
            work = nicEvents + drainLoopback();
            if (timers.nextDeadline() - now <= 0) {
                work += timers.expire();
            }
            refillRx();
        } finally {
            polling = false;
        }
        flush();
        armNicTimer();
        lastPollWoke = wokenThisPass > 0;
        lastPollNanos = systemNow;
        measureRate(nicEvents, systemNow);
        return work;
    }

    /**
     * Adaptive mode (sun-poll-interrupt-switching): above {@code slipstream.poll.rate} packets
     * per second, blocked threads keep polling instead of parking on the interrupt; once the
     * rate falls they go back to interrupt mode as soon as a poll finds the rings empty.
     */
    private void measureRate(int nicEvents, long now) {
        rateWindowEvents += nicEvents;
        long elapsed = now - rateWindowStart;
        if (elapsed >= RATE_WINDOW_NANOS) {
            boolean fast = rateWindowEvents * 1_000_000_000L / elapsed >= runtime.pollRate();
            if (fast && !pollingMode) {
                runtimeCounters.increment(RuntimeCounter.POLLING_MODE_ENTERED);
            }
            pollingMode = fast;
            rateWindowStart = now;
            rateWindowEvents = 0;
        }
    }

    /** Whether the packet rate keeps blocked threads polling (adaptive mode). */
    public boolean pollingMode() {
        return pollingMode;
    }

    // ---------------------------------------------------------------- runtime: entry, poll hook

    /**
     * Entry of every socket operation: takes the stack lock and brings the stack up to date
     * (one bounded poll pass) on the way in. If the lock is busy, its holder is asked to poll
     * ({@link StackLock#POLL_NEEDED}) and this thread waits for the lock without polling
     * itself: the holder's release runs that poll first. Pair with {@link #exit()} in a
     * finally block. Allocates nothing.
     */
    public void enter() {
        if (lock.tryLockOrDefer(StackLock.POLL_NEEDED)) {
            appPoll(runtime.pollBatch());
        } else {
            lock.lock();
            clock.refresh(System.nanoTime()); // the holder polled for us; the time is ours to take
        }
    }

    /**
     * Leaves the stack: re-arms the NIC timer if the operation scheduled an earlier timer (a
     * send arms the retransmission timer), runs work other threads deferred to us, and
     * releases the lock.
     */
    public void exit() {
        try {
            if (!closed) {
                if (loopbackCount > 0) {
                    drainLoopback(); // datagrams to ourselves arrive before anyone else looks
                    flush();
                }
                armNicTimer();
            }
        } finally {
            lock.unlock();
        }
    }

    /**
     * The poll hook of {@code select}: when the interrupt is enabled the stack is already up
     * to date (it was updated before enabling, and any event since fires the interrupt), so
     * nothing is done; otherwise one poll pass if the lock is free, or a poll requested from
     * its holder. Never waits. Returns whether this call polled.
     */
    public boolean pollHook() {
        if (interruptsEnabled) {
            runtimeCounters.increment(RuntimeCounter.POLL_HOOK_SKIPS);
            return false;
        }
        if (!lock.tryLockOrDefer(StackLock.POLL_NEEDED)) {
            return false;
        }
        try {
            appPoll(runtime.pollBatch());
        } finally {
            lock.unlock();
        }
        return true;
    }

    /** Pushes waiting frames now, or asks the lock holder to ({@link StackLock#TX_PENDING}). */
    public void requestFlush() {
        if (lock.tryLockOrDefer(StackLock.TX_PENDING)) {
            try {
                drainTxBacklog();
                flush();
            } finally {
                lock.unlock();
            }
        }
    }

    /** Work recorded by threads that found the lock busy, run by the holder before it releases. */
    private void runDeferred(int bits) {
        runtimeCounters.increment(RuntimeCounter.DEFERRED_WORK_RUNS);
        if ((bits & StackLock.POLL_NEEDED) != 0) {
            runtimeCounters.increment(RuntimeCounter.DEFERRED_POLLS);
            pollLocked(runtime.pollBatch());
        }
        if ((bits & StackLock.TX_PENDING) != 0) {
            drainTxBacklog();
            flush();
        }
        if ((bits & StackLock.WAKE_NEEDED) != 0 && blocked.get() > 0) {
            // A thread went to sleep counting on us: it must not sleep through the next event.
            decideInterrupt();
        }
    }

    // ---------------------------------------------------------------- runtime: blocking

    /** A wait queue for one socket or selector of this stack (see {@link #await}). */
    public WaitQueue newWaitQueue() {
        return new WaitQueue(this);
    }

    /** Called by {@link WaitQueue#wakeAll()}: feeds rule 3 and the counters. */
    void threadsWoken(int n) {
        wokenThisPass += n;
        lastPollWoke = true;
        runtimeCounters.add(RuntimeCounter.THREADS_WOKEN, n);
    }

    /**
     * Blocks the calling thread until {@code condition} holds, {@code timeoutNanos} pass
     * (negative: no limit; 0: check once), the thread is interrupted or the stack closes.
     * Whoever changes what the condition reads must call {@code queue.wakeAll()} afterwards
     * (under the stack lock: TCP and UDP readiness listeners do).
     *
     * <p>First it spins for {@code slipstream.poll.usec}, polling the stack itself (longer while
     * the adaptive mode says packets come fast). Then it enqueues itself, polls once more and
     * applies {@link #decideInterrupt()}'s rules, or, if the lock is busy, leaves the poll and
     * the decision to the holder; then it parks until woken. Must not be called with the stack
     * lock held. Allocates nothing once the thread has waited before.
     *
     * @return {@link #READY}, {@link #TIMED_OUT}, {@link #INTERRUPTED} (status left set) or {@link #CLOSED}
     */
    public int await(WaitQueue queue, WaitCondition condition, long timeoutNanos) {
        if (lock.isHeldByCurrentThread()) {
            throw new IllegalStateException("Stack.await must not be called with the stack lock held");
        }
        boolean timed = timeoutNanos >= 0;
        long spin = runtime.spinNanos();
        long start = timed || spin > 0 ? System.nanoTime() : 0;
        long deadline = start + timeoutNanos;
        Thread me = Thread.currentThread();
        if (spin != 0 || timeoutNanos == 0) {
            long spinEnd = start + spin;
            for (;;) {
                if (closed) {
                    return CLOSED;
                }
                int work = -1;
                if (lock.tryLockOrDefer(StackLock.POLL_NEEDED)) {
                    boolean ready;
                    try {
                        work = appPoll(runtime.pollBatch());
                        ready = condition.ready();
                    } finally {
                        lock.unlock();
                    }
                    if (ready) {
                        return READY;
                    }
                }
                if (me.isInterrupted()) {
                    return INTERRUPTED;
                }
                if (timed || spin >= 0) { // spinning forever without a timeout needs no clock
                    long now = System.nanoTime();
                    if (timed && now - deadline >= 0) {
                        return TIMED_OUT;
                    }
                    if (spin >= 0 && now - spinEnd >= 0 && !(pollingMode && work != 0)) {
                        break;
                    }
                }
                Thread.onSpinWait();
            }
        }
        Waiter w = waiters.get();
        for (;;) {
            if (closed) {
                return CLOSED;
            }
            w.arm();
            queue.add(w);
            blocked.incrementAndGet();
            try {
                boolean ready;
                if (lock.tryLockOrDefer(StackLock.POLL_NEEDED | StackLock.WAKE_NEEDED)) {
                    try {
                        appPoll(runtime.pollBatch());
                        ready = condition.ready();
                        if (!ready) {
                            decideInterrupt();
                        }
                    } finally {
                        lock.unlock();
                    }
                } else {
                    // Rule 1 (lock held): the holder polls and decides for us before it releases.
                    runtimeCounters.increment(RuntimeCounter.INTERRUPT_SUPPRESSED_LOCK_BUSY);
                    ready = condition.ready();
                }
                if (ready) {
                    return READY;
                }
                runtimeCounters.increment(RuntimeCounter.PARKS);
                while (!w.woken()) {
                    if (me.isInterrupted()) {
                        return INTERRUPTED;
                    }
                    if (closed) {
                        return CLOSED;
                    }
                    long slice = CLOSE_CHECK_NANOS;
                    if (timed) {
                        long left = deadline - System.nanoTime();
                        if (left <= 0) {
                            return TIMED_OUT;
                        }
                        slice = Math.min(slice, left);
                    }
                    LockSupport.parkNanos(this, slice);
                }
            } finally {
                queue.remove(w);
                blocked.decrementAndGet();
            }
        }
    }

    /** Threads currently blocked in {@link #await}. */
    public int blockedThreads() {
        return blocked.get();
    }

    /** What {@link #decideInterrupt()} decided. */
    public enum InterruptDecision {
        ENABLED,
        SUPPRESSED_LOCK_BUSY,
        SUPPRESSED_ALREADY_ENABLED,
        SUPPRESSED_THREADS_WOKEN
    }

    /**
     * Whether a thread about to block must enable the interrupt, by onload's rules, in order,
     * each counted: (1) the lock is contended: a contender will poll when it gets the lock (the
     * "lock held" half of the rule is applied by callers that failed to take it); (2) the
     * interrupt is already enabled; (3) the last poll woke blocked threads, which will poll
     * when they run; otherwise enable it. Called under the lock, right after a poll.
     */
    InterruptDecision decideInterrupt() {
        if (lock.isContended()) {
            runtimeCounters.increment(RuntimeCounter.INTERRUPT_SUPPRESSED_LOCK_BUSY);
            return InterruptDecision.SUPPRESSED_LOCK_BUSY;
        }
        if (interruptsEnabled) {
            runtimeCounters.increment(RuntimeCounter.INTERRUPT_SUPPRESSED_ALREADY_ENABLED);
            return InterruptDecision.SUPPRESSED_ALREADY_ENABLED;
        }
        if (lastPollWoke) {
            runtimeCounters.increment(RuntimeCounter.INTERRUPT_SUPPRESSED_THREADS_WOKEN);
            return InterruptDecision.SUPPRESSED_THREADS_WOKEN;
        }
        runtimeCounters.increment(RuntimeCounter.INTERRUPTS_ENABLED);
        enableInterrupt();
        return InterruptDecision.ENABLED;
    }

    private void enableInterrupt() {
        interruptsEnabled = true;
        nic.interrupt().enable();
        InterruptThread t = interruptThread;
        if (t != null) {
            t.interruptEnabled();
        }
    }

    /** onload's "interrupts enabled" flag. */
    public boolean interruptsEnabled() {
        return interruptsEnabled;
    }

    // ---------------------------------------------------------------- runtime: interrupt service

    Interrupt interrupt() {
        return nic.interrupt();
    }

    /** Nanoseconds (stack clock) until the armed NIC timer: 0 if due, MAX_VALUE if disarmed. */
    long nicTimerRemaining() {
        long d = nic.timer().deadline();
        return d == NicTimer.DISARMED ? Long.MAX_VALUE : Math.max(0, d - clock.nanoTime());
    }

    long lastPollNanos() {
        return lastPollNanos;
    }

    /** Whether application threads polled within the last latency interval (moderation). */
    boolean applicationActive(long now) {
        return now - lastAppPollNanos < runtime.latencyNanos();
    }

    /**
     * The interrupt service routine, run by the interrupt thread when the interrupt fired:
     * clears the enabled flag, {@code tryLock}s (on failure the holder polls and decides for
     * the waiters, {@link StackLock#POLL_NEEDED} and {@link StackLock#WAKE_NEEDED}), processes
     * the stack until idle (bounded by the rx ring), and re-enables the interrupt only if
     * threads still wait. Returns whether it processed the stack itself.
     */
    boolean serviceInterrupt() {
        runtimeCounters.increment(RuntimeCounter.INTERRUPT_WAKEUPS);
        // Cleared before the hand-off, so the holder's decision does not see a stale "enabled".
        interruptsEnabled = false;
        if (!lock.tryLockOrDefer(StackLock.POLL_NEEDED | StackLock.WAKE_NEEDED)) {
            runtimeCounters.increment(RuntimeCounter.INTERRUPT_HANDOFFS);
            return false;
        }
        try {
            processAsInterrupt();
        } finally {
            lock.unlock();
        }
        return true;
    }

    /**
     * The stall watchdog: if nobody holds the lock and events wait, the interrupt thread
     * processes the stack itself so ACKs and window updates keep flowing. Returns whether it did.
     */
    boolean rescueIfStalled() {
        if (!lock.tryLock()) {
            return false; // whoever holds it is processing: not stalled
        }
        try {
            if (closed || (!nic.events().hasEvents() && loopbackCount == 0)) {
                return false;
            }
            runtimeCounters.increment(RuntimeCounter.STALL_RESCUES);
            processAsInterrupt();
            return true;
        } finally {
            lock.unlock();
        }
    }

    private void processAsInterrupt() {
        int limit = Math.max(1, nic.rx().capacity() / runtime.pollBatch()) + 1;
        int woken = 0;
        for (int i = 0; i < limit; i++) {
            runtimeCounters.increment(RuntimeCounter.INTERRUPT_POLLS);
            int work = pollLocked(runtime.pollBatch());
            woken += wokenThisPass;
            if (work < runtime.pollBatch()) {
                break;
            }
        }
        // Threads just woken still count as blocked until they run; they will poll themselves.
        if (blocked.get() > woken && !interruptsEnabled && !closed) {
            runtimeCounters.increment(RuntimeCounter.INTERRUPTS_REENABLED);
            enableInterrupt();
        } else if (blocked.get() <= woken) {
            interruptsEnabled = false;
        }
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
                InterruptThread t = interruptThread;
                if (t != null) {
                    t.timerArmed(next); // it may be waiting for a later deadline
                }
            }
        }
    }

    /**
     * Keeps the rx ring full. The stack counts the buffers it has lent the ring (posted, not yet
     * back in an RX event) itself: reading the ring's own count would touch memory the NIC side
     * keeps writing, on every poll of a busy-polling thread.
     */
    private void refillRx() {
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

    /** A bug caught at a last guard: counted, the first kept for the stack dump. */
    void internalError(RuntimeException e) {
        counters.increment(StackCounter.INTERNAL_ERRORS);
        if (firstInternalError == null) {
            firstInternalError = e;
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
            m.put("tcp", tcp.counters().snapshot());
            m.put("nic", nic.stats().snapshot());
            m.put("runtime", runtimeCounters.snapshot());
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
        InterruptThread t = interruptThread;
        if (t != null) {
            t.stop();
        }
        StackRegistry.closed(this);
        lock.lock();
        try {
            if (closed) {
                return;
            }
            closed = true;
            interruptsEnabled = false;
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

    // ---------------------------------------------------------------- exit without loss

    /**
     * At JVM shutdown: every TCP connection that could still deliver what the application
     * wrote gets a FIN after its data (as the kernel does when a process exits), then the
     * stack is processed until every such connection has its data and FIN acknowledged, or
     * {@code slipstream.exit.linger.ms} passes. Returns true if nothing was left behind.
     */
    public boolean drainForExit() {
        long end = System.nanoTime() + runtime.exitLingerNanos();
        boolean first = true;
        for (;;) {
            boolean pending;
            enter();
            try {
                if (closed) {
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
