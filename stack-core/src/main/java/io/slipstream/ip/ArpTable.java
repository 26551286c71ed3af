package io.slipstream.ip;

import io.slipstream.buffer.BufferOwner;
import io.slipstream.buffer.BufferPool;
import io.slipstream.buffer.PacketBuffer;
import io.slipstream.stats.Counters;
import io.slipstream.time.Timer;
import io.slipstream.time.Timers;
import io.slipstream.wire.Arp;
import io.slipstream.wire.Ethernet;
import io.slipstream.wire.MacAddress;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
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

    public ArpTable(BufferPool pool, LinkOutput link, Timers timers, int myIp, ResolutionFailure failure) {
        this(pool, link, timers, myIp, failure, DEFAULT_REACHABLE_NANOS, DEFAULT_RETRY_NANOS,
                DEFAULT_RETRIES, DEFAULT_QUEUE_LIMIT, DEFAULT_MAX_ENTRIES);
    }

    public ArpTable(BufferPool pool, LinkOutput link, Timers timers, int myIp, ResolutionFailure failure,
                    long reachableNanos, long retryNanos, int retries, int queueLimit, int maxEntries) {
        this.pool = pool;
        this.link = link;
        this.timers = timers;
        this.myIp = myIp;
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

    /** The MAC for {@code ip} if resolved (even if due for confirmation), else -1. */
    public long lookup(int ip) {
        Entry e = entries.get(ip);
        return e == null ? -1 : e.mac;
    }

    public int size() {
        return entries.size();
    }

    /** Announces our address (gratuitous ARP request, RFC 5227 §3) so neighbours update caches. */
    public void announce() {
        if (sendArp(Arp.OP_REQUEST, MacAddress.BROADCAST, myIp, MacAddress.ZERO, myIp)) {
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
        if (e != null && e.resolved()) {
            if (now - e.expiresAt >= 0 && now - e.nextRequestAt >= 0 && e.requestsSent == 0) {
                request(e, now); // confirm the stale entry in the background; keep sending
            }
            transmitTo(frame, from, e.mac);
            return;
        }
        if (e == null) {
            if (entries.size() >= maxEntries) {
                counters.increment(ArpCounter.TABLE_FULL_DROPS);
                frame.release(from);
                return;
            }
            e = new Entry(nextHop, queueLimit);
            entries.put(nextHop, e);
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
        // Confirming a stale entry goes to its known MAC (RFC 1122 §2.3.2.1 unicast poll).
        long dst = e.resolved() ? e.mac : MacAddress.BROADCAST;
        if (sendArp(Arp.OP_REQUEST, dst, myIp, MacAddress.ZERO, e.ip)) {
            counters.increment(ArpCounter.REQUESTS_SENT);
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
