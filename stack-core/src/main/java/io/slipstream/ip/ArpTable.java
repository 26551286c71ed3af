package io.slipstream.ip;

import io.slipstream.buffer.BufferOwner;
import io.slipstream.buffer.BufferPool;
import io.slipstream.buffer.PacketBuffer;
import io.slipstream.nic.HostControlPlane;
import io.slipstream.stats.Counters;
import io.slipstream.time.Timer;
import io.slipstream.time.Timers;
import io.slipstream.wire.Arp;
import io.slipstream.wire.Ethernet;
import io.slipstream.wire.MacAddress;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import org.eclipse.collections.api.block.procedure.Procedure;
import org.eclipse.collections.impl.map.mutable.primitive.IntObjectHashMap;

/**
 * The neighbour cache and ARP protocol (RFC 826, with RFC 1122 §2.3.2 queueing and flooding
 * limits). Frames for an unresolved next hop wait in a small per-neighbour queue; requests are
 * retried at a fixed interval a bounded number of times, then the held frames are handed to
 * the failure callback (which reports host-unreachable) and released.
 *
 * <p>Entries live {@code reachableNanos} after the last confirmation. An expired entry is
 * still used (so traffic never stalls on a refresh) while requests confirm it again; one that
 * stays unanswered through every retry is removed.
 *
 * <p>On a NIC that shares the host's interface (a {@link HostControlPlane}), the host resolves
 * neighbours and the stack speaks no ARP: the host answers ARP for the shared address, and the
 * NIC delivers the stack none. A frame goes to the MAC the host's neighbour table has for its
 * next hop, looked up for every frame (the host's table is the only truth). On a miss the frame
 * waits in the same queue, and the host is asked to resolve the neighbour where a request would
 * have been sent; the queue leaves as soon as the MAC appears, seen by the retry timer or by the
 * pass a change of the host's tables wakes ({@link #hostChanged}). A neighbour the host does not
 * resolve through every retry fails as an unanswered one does. An entry due for confirmation is
 * confirmed by asking the host too: the stack's own traffic never refreshes the host's entry,
 * and the kernel probes a STALE one when asked.
 *
 * <p>All state is guarded by the stack lock.
 */
public final class ArpTable {
    /** Receives each frame dropped because its next hop did not answer, before it is released. */
    @FunctionalInterface
    public interface ResolutionFailure {
        void unresolved(PacketBuffer frame, BufferOwner owner);
    }

    public static final long DEFAULT_REACHABLE_NANOS = 60_000_000_000L;
    public static final long DEFAULT_RETRY_NANOS = 1_000_000_000L;
    public static final int DEFAULT_RETRIES = 3;
    public static final int DEFAULT_QUEUE_LIMIT = 16;
    public static final int DEFAULT_MAX_ENTRIES = 1024;

    private static final class Entry {
        final int ip;
        long mac = -1;              // -1 while incomplete
        long expiresAt;             // when a resolved entry needs confirmation again
        long nextRequestAt;
        int requestsSent;           // since the last confirmation
        final PacketBuffer[] pending;
        int pendingCount;

        Entry(int ip, int queueLimit) {
            this.ip = ip;
            this.pending = new PacketBuffer[queueLimit];
        }

        boolean resolved() {
            return mac >= 0;
        }
    }

    private final BufferPool pool;
    private final LinkOutput link;
    private final Timers timers;
    private final int myIp;
    private final ResolutionFailure failure;
    /** The host that resolves neighbours for the stack, or null when the stack speaks ARP itself. */
    private final HostControlPlane host;
    /** {@link #hostChanged}'s look at one entry, made once: walking the table allocates nothing. */
    private final Procedure<Entry> recheckWithHost = this::recheckWithHost;
    private final BufferOwner owner = new BufferOwner("arp");
    private final IntObjectHashMap<Entry> entries = new IntObjectHashMap<>();
    private final Counters<ArpCounter> counters = new Counters<>(ArpCounter.class);
    private final Timer retryTimer = new Timer(this::onRetryTimer);
    private final long reachableNanos;
    private final long retryNanos;
    private final int retries;
    private final int queueLimit;
    private final int maxEntries;
    private int[] removals = new int[16];

    /** @param host the host that resolves neighbours (a NIC sharing its interface), or null to speak ARP */
    public ArpTable(BufferPool pool, LinkOutput link, Timers timers, int myIp, HostControlPlane host,
                    ResolutionFailure failure) {
        this(pool, link, timers, myIp, host, failure, DEFAULT_REACHABLE_NANOS, DEFAULT_RETRY_NANOS,
                DEFAULT_RETRIES, DEFAULT_QUEUE_LIMIT, DEFAULT_MAX_ENTRIES);
    }

    public ArpTable(BufferPool pool, LinkOutput link, Timers timers, int myIp, HostControlPlane host,
                    ResolutionFailure failure, long reachableNanos, long retryNanos, int retries, int queueLimit,
                    int maxEntries) {
        this.pool = pool;
        this.link = link;
        this.timers = timers;
        this.myIp = myIp;
        this.host = host;
        this.failure = failure;
        this.reachableNanos = reachableNanos;
        this.retryNanos = retryNanos;
        this.retries = retries;
        this.queueLimit = queueLimit;
        this.maxEntries = maxEntries;
    }

    public Counters<ArpCounter> counters() {
        return counters;
    }

    /** The MAC for {@code ip} if resolved (even if due for confirmation; the host's, when the host resolves), else -1. */
    public long lookup(int ip) {
        if (host != null) {
            return host.neighbourMac(ip);
        }
        Entry e = entries.get(ip);
        return e == null ? -1 : e.mac;
    }

    /** Whether the host resolves neighbours for this stack (it then sends and answers no ARP). */
    public boolean hostResolves() {
        return host != null;
    }

    public int size() {
        return entries.size();
    }

    /**
     * Announces our address (gratuitous ARP request, RFC 5227 §3) so neighbours update caches;
     * nothing when the host resolves, as the address is the host's and so is announcing it.
     */
    public void announce() {
        if (host == null && sendArp(Arp.OP_REQUEST, MacAddress.BROADCAST, myIp, MacAddress.ZERO, myIp)) {
            counters.increment(ArpCounter.GRATUITOUS_SENT);
        }
    }

    /**
     * Sends {@code frame} (a complete Ethernet frame whose destination MAC is still to be set)
     * to the neighbour {@code nextHop}, resolving it first if needed. Takes ownership.
     */
    public void send(PacketBuffer frame, BufferOwner from, int nextHop) {
        Entry e = entries.get(nextHop);
        long now = timers.clock().nanoTime();
        if (host != null) {
            sendThroughHost(frame, from, nextHop, e, now);
            return;
        }
        if (e != null && e.resolved()) {
            if (now - e.expiresAt >= 0 && now - e.nextRequestAt >= 0 && e.requestsSent == 0) {
                request(e, now); // confirm the stale entry in the background; keep sending
            }
            transmitTo(frame, from, e.mac);
            return;
        }
        hold(frame, from, nextHop, e, now);
    }

    /** {@link #send} when the host resolves: to the MAC in the host's table, or held while the host resolves it. */
    private void sendThroughHost(PacketBuffer frame, BufferOwner from, int nextHop, Entry e, long now) {
        long mac = host.neighbourMac(nextHop);
        if (mac < 0) {
            counters.increment(ArpCounter.HOST_MISSES);
            if (e != null && e.resolved()) {
                e.mac = -1; // the host lost it (failed, deleted): resolved afresh, as a new one
                e.requestsSent = 0;
            }
            hold(frame, from, nextHop, e, now);
            return;
        }
        counters.increment(ArpCounter.HOST_HITS);
        if (e == null) {
            // Tracked for its confirmation; at the table's limit the frame goes all the same.
            if (entries.size() < maxEntries) {
                e = new Entry(nextHop, queueLimit);
                entries.put(nextHop, e);
                confirm(e, mac);
            }
        } else if (!e.resolved()) {
            resolvedByHost(e, mac); // the held frames leave first, in order
        } else {
            e.mac = mac;
            if (now - e.expiresAt >= 0) {
                askHost(nextHop); // confirmed by the host, in the background; keep sending
                e.expiresAt = now + reachableNanos;
            }
        }
        transmitTo(frame, from, mac);
    }

    /** Holds {@code frame} for the unresolved {@code nextHop} (entry {@code e}, or none yet), resolving it. */
    private void hold(PacketBuffer frame, BufferOwner from, int nextHop, Entry e, long now) {
        if (e == null) {
            if (entries.size() >= maxEntries) {
                counters.increment(ArpCounter.TABLE_FULL_DROPS);
                frame.release(from);
                return;
            }
            e = new Entry(nextHop, queueLimit);
            entries.put(nextHop, e);
        }
        if (e.requestsSent == 0) {
            request(e, now);
        }
        if (e.pendingCount == e.pending.length) {
            counters.increment(ArpCounter.QUEUE_FULL_DROPS);
            frame.release(from);
            return;
        }
        frame.transfer(from, owner);
        e.pending[e.pendingCount++] = frame;
        counters.increment(ArpCounter.QUEUED);
    }

    /**
     * A received ARP packet (validated with {@link Arp#validate}) at {@code off} in
     * {@code s}. Applies RFC 826's merge rule and answers requests for our address.
     */
    public void receive(MemorySegment s, long off) {
        if (host != null) {
            // The host answers for the shared address and learns from this itself; the NIC is
            // not meant to deliver ARP here at all.
            counters.increment(ArpCounter.HOST_ARP_IGNORED);
            return;
        }
        int op = Arp.operation(s, off);
        int spa = Arp.senderIp(s, off);
        long sha = Arp.senderMac(s, off);
        int tpa = Arp.targetIp(s, off);
        if (op == Arp.OP_REQUEST) {
            counters.increment(ArpCounter.REQUESTS_RECEIVED);
        } else if (op == Arp.OP_REPLY) {
            counters.increment(ArpCounter.REPLIES_RECEIVED);
        }
        // A probe (sender 0.0.0.0) or a frame claiming a multicast/broadcast MAC teaches nothing.
        boolean learnable = spa != 0 && spa != myIp && !MacAddress.isMulticast(sha) && sha != MacAddress.ZERO;
        boolean merged = false;
        if (learnable) {
            Entry e = entries.get(spa);
            if (e != null) {
                confirm(e, sha);
                merged = true;
            }
        }
        if (tpa == myIp) {
            if (learnable && !merged && entries.size() < maxEntries) {
                Entry e = new Entry(spa, queueLimit);
                entries.put(spa, e);
                confirm(e, sha);
            }
            // Answer every request for our address from a unicast sender, probes included
            // (RFC 5227 §2.4: a reply to a probe is how the prober learns of the conflict).
            if (op == Arp.OP_REQUEST && !MacAddress.isMulticast(sha) && sha != MacAddress.ZERO) {
                if (sendArp(Arp.OP_REPLY, sha, myIp, sha, spa)) {
                    counters.increment(ArpCounter.REPLIES_SENT);
                }
            }
        }
    }

    private void confirm(Entry e, long mac) {
        long now = timers.clock().nanoTime();
        e.mac = mac;
        e.expiresAt = now + reachableNanos;
        e.requestsSent = 0;
        for (int i = 0; i < e.pendingCount; i++) {
            PacketBuffer f = e.pending[i];
            e.pending[i] = null;
            transmitTo(f, owner, mac);
        }
        e.pendingCount = 0;
    }

    private void request(Entry e, long now) {
        e.requestsSent++;
        e.nextRequestAt = now + retryNanos;
        if (host != null) {
            askHost(e.ip);
        } else {
            // Confirming a stale entry goes to its known MAC (RFC 1122 §2.3.2.1 unicast poll).
            long dst = e.resolved() ? e.mac : MacAddress.BROADCAST;
            if (sendArp(Arp.OP_REQUEST, dst, myIp, MacAddress.ZERO, e.ip)) {
                counters.increment(ArpCounter.REQUESTS_SENT);
            }
        }
        if (!retryTimer.isScheduled() || retryTimer.deadline() - e.nextRequestAt > 0) {
            timers.schedule(retryTimer, e.nextRequestAt);
        }
    }

    private void onRetryTimer(Timer t, long now) {
        int removeCount = 0;
        long next = Long.MAX_VALUE;
        for (Entry e : entries.values()) {
            if (e.requestsSent == 0) {
                continue; // resolved and not being confirmed
            }
            if (now - e.nextRequestAt < 0) {
                next = Math.min(next, e.nextRequestAt);
                continue;
            }
            long hostMac = host == null ? -1 : host.neighbourMac(e.ip);
            if (hostMac >= 0) {
                resolvedByHost(e, hostMac);
                continue;
            }
            if (e.requestsSent >= retries) {
                if (removeCount == removals.length) {
                    removals = Arrays.copyOf(removals, removeCount * 2);
                }
                removals[removeCount++] = e.ip;
                continue;
            }
            request(e, now);
            next = Math.min(next, e.nextRequestAt);
        }
        for (int i = 0; i < removeCount; i++) {
            Entry e = entries.remove(removals[i]);
            counters.increment(ArpCounter.RESOLUTION_FAILURES);
            for (int j = 0; j < e.pendingCount; j++) {
                PacketBuffer f = e.pending[j];
                e.pending[j] = null;
                counters.increment(ArpCounter.UNRESOLVED_DROPS);
                failure.unresolved(f, owner);
                f.release(owner);
            }
            e.pendingCount = 0;
        }
        if (next != Long.MAX_VALUE) {
            timers.schedule(retryTimer, next);
        }
    }

    /** Asks the host to resolve or confirm {@code ip}, counting whether it took the request. */
    private void askHost(int ip) {
        counters.increment(host.resolve(ip) ? ArpCounter.HOST_RESOLVE_REQUESTS : ArpCounter.HOST_RESOLVE_NOT_SENT);
    }

    /** The host resolved a neighbour the stack waited for: its held frames leave. */
    private void resolvedByHost(Entry e, long mac) {
        counters.increment(ArpCounter.HOST_RESOLVED);
        confirm(e, mac);
    }

    /**
     * The host's tables changed (run under the stack lock by the pass the change woke): every
     * neighbour still waiting that the host now has a MAC for sends its held frames, without
     * waiting for the retry timer. Nothing when the stack speaks ARP itself.
     */
    public void hostChanged() {
        if (host != null) {
            entries.forEachValue(recheckWithHost);
        }
    }

    private void recheckWithHost(Entry e) {
        if (!e.resolved()) {
            long mac = host.neighbourMac(e.ip);
            if (mac >= 0) {
                resolvedByHost(e, mac);
            }
        }
    }

    private void transmitTo(PacketBuffer frame, BufferOwner from, long mac) {
        Ethernet.setDestination(frame.segment(), frame.offset(), mac);
        link.transmit(frame, from);
    }

    private boolean sendArp(int op, long ethDst, int spa, long tha, int tpa) {
        PacketBuffer b = pool.acquire(owner);
        if (b == null) {
            counters.increment(ArpCounter.NO_BUFFER);
            return false;
        }
        MemorySegment s = b.segment();
        int len = Ethernet.write(s, 0, ethDst, link.mac(), Ethernet.TYPE_ARP);
        len += Arp.write(s, len, op, link.mac(), spa, tha, tpa);
        b.setRange(0, len);
        link.transmit(b, owner);
        return true;
    }

    /** Releases every held frame (stack shutdown). */
    public void close() {
        timers.cancel(retryTimer);
        for (Entry e : entries.values()) {
            for (int j = 0; j < e.pendingCount; j++) {
                e.pending[j].release(owner);
                e.pending[j] = null;
            }
            e.pendingCount = 0;
        }
        entries.clear();
    }
}
