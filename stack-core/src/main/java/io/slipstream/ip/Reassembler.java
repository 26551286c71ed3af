package io.slipstream.ip;

import io.slipstream.buffer.BufferOwner;
import io.slipstream.buffer.BufferPool;
import io.slipstream.buffer.PacketBuffer;
import io.slipstream.stats.Counters;
import io.slipstream.time.Timer;
import io.slipstream.time.Timers;
import io.slipstream.wire.Ipv4;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * IPv4 fragment reassembly (RFC 791 §3.2, RFC 815) in bounded memory: a fixed number of
 * slots, each backed by one datagram-sized buffer from the jumbo pool, with a bitmap of the
 * 8-byte units received. A slot's deadline is set by its first fragment and never extended,
 * so fragments that never complete cannot hold memory past the timeout. When every slot is
 * busy, new datagrams' fragments are dropped and counted.
 *
 * <p>A completed datagram is laid out as [IP header][payload] with the payload at
 * {@link #PAYLOAD_OFFSET}, the header of the first fragment immediately before it (total
 * length fixed, no fragment bits), so transports and ICMP see the same layout as for an
 * unfragmented frame. Overlapping fragments overwrite earlier bytes (RFC 791); fragments that
 * contradict the datagram's end are inconsistent and end the reassembly.
 */
final class Reassembler {
    /** Called with the first fragment's header and data when a slot times out. */
    interface TimeoutListener {
        void timedOut(MemorySegment s, long ipOffset, int length);
    }

    static final int PAYLOAD_OFFSET = Ipv4.MAX_HEADER_LENGTH;
    private static final int UNITS = (Ipv4.MAX_DATAGRAM + 7) / 8;

    private static final class Slot {
        boolean inUse;
        int src;
        int dst;
        int id;
        int protocol;
        PacketBuffer buffer;
        final long[] units = new long[(UNITS + 63) / 64];
        int payloadEnd = -1;    // known once the last fragment (MF clear) arrives
        int headerLength;       // of the first fragment, once seen
        long deadline;
    }

    private final Slot[] slots;
    private final BufferPool jumbo;
    private final BufferOwner owner;
    private final Timers timers;
    private final long timeoutNanos;
    private final Counters<IpCounter> counters;
    private final TimeoutListener timeoutListener;
    private final Timer timer = new Timer(this::onTimer);
    private int completedHeaderLength;

    Reassembler(int slotCount, BufferPool jumbo, BufferOwner owner, Timers timers, long timeoutNanos,
                Counters<IpCounter> counters, TimeoutListener timeoutListener) {
        this.slots = new Slot[slotCount];
        for (int i = 0; i < slotCount; i++) {
            slots[i] = new Slot();
        }
        this.jumbo = jumbo;
        this.owner = owner;
        this.timers = timers;
        this.timeoutNanos = timeoutNanos;
        this.counters = counters;
        this.timeoutListener = timeoutListener;
    }

    /**
     * Adds a validated fragment at {@code ipOff} in {@code s}. Returns the completed datagram,
     * owned by this reassembler's owner, or null if more fragments are needed (or this one was
     * dropped and counted). The fragment's bytes are copied; the caller keeps its frame.
     */
    PacketBuffer offer(MemorySegment s, long ipOff) {
        counters.increment(IpCounter.RX_FRAGMENTS);
        int hl = Ipv4.headerLength(s, ipOff);
        int dataLen = Ipv4.totalLength(s, ipOff) - hl;
        int fragOff = Ipv4.fragmentOffset(s, ipOff);
        boolean more = Ipv4.moreFragments(s, ipOff);
        // Every fragment but the last carries a multiple of 8 bytes (RFC 791 §3.2).
        if (more && (dataLen & 7) != 0 || more && dataLen == 0) {
            counters.increment(IpCounter.REASSEMBLY_INCONSISTENT);
            return null;
        }
        Slot slot = find(Ipv4.source(s, ipOff), Ipv4.destination(s, ipOff),
                Ipv4.identification(s, ipOff), Ipv4.protocol(s, ipOff));
        if (slot == null) {
            return null;
        }
        int end = fragOff + dataLen;
        if (!more) {
            if (slot.payloadEnd >= 0 && slot.payloadEnd != end || highestUnit(slot) * 8 > end) {
                abandon(slot, IpCounter.REASSEMBLY_INCONSISTENT);
                return null;
            }
            slot.payloadEnd = end;
        } else if (slot.payloadEnd >= 0 && end > slot.payloadEnd) {
            abandon(slot, IpCounter.REASSEMBLY_INCONSISTENT);
            return null;
        }
        MemorySegment.copy(s, ipOff + hl, slot.buffer.segment(), PAYLOAD_OFFSET + fragOff, dataLen);
        markUnits(slot, fragOff >>> 3, (end + 7) >>> 3);
        if (fragOff == 0) {
            slot.headerLength = hl;
            MemorySegment.copy(s, ipOff, slot.buffer.segment(), PAYLOAD_OFFSET - hl, hl);
        }
        if (slot.payloadEnd < 0 || !complete(slot)) {
            return null;
        }
        PacketBuffer done = slot.buffer;
        MemorySegment d = done.segment();
        long hdr = PAYLOAD_OFFSET - slot.headerLength;
        // The rebuilt header describes the whole datagram: no fragment bits, full length.
        Ipv4.clearFragmentFields(d, hdr);
        Ipv4.setTotalLength(d, hdr, slot.headerLength + slot.payloadEnd);
        done.setRange(PAYLOAD_OFFSET, slot.payloadEnd);
        completedHeaderLength = slot.headerLength;
        slot.buffer = null;
        release(slot);
        counters.increment(IpCounter.REASSEMBLED);
        return done;
    }

    private Slot find(int src, int dst, int id, int protocol) {
        Slot free = null;
        for (Slot sl : slots) {
            if (sl.inUse) {
                if (sl.src == src && sl.dst == dst && sl.id == id && sl.protocol == protocol) {
                    return sl;
                }
            } else if (free == null) {
                free = sl;
            }
        }
        if (free == null) {
            counters.increment(IpCounter.REASSEMBLY_NO_SLOT);
            return null;
        }
        PacketBuffer b = jumbo.acquire(owner);
        if (b == null) {
            counters.increment(IpCounter.REASSEMBLY_NO_SLOT);
            return null;
        }
        free.inUse = true;
        free.src = src;
        free.dst = dst;
        free.id = id;
        free.protocol = protocol;
        free.buffer = b;
        free.payloadEnd = -1;
        free.headerLength = 0;
        free.deadline = timers.clock().nanoTime() + timeoutNanos;
        Arrays.fill(free.units, 0L);
        if (!timer.isScheduled() || timer.deadline() - free.deadline > 0) {
            timers.schedule(timer, free.deadline);
        }
        return free;
    }

    private static void markUnits(Slot slot, int from, int to) {
        for (int u = from; u < to; u++) {
            slot.units[u >>> 6] |= 1L << (u & 63);
        }
    }

    private static int highestUnit(Slot slot) {
        for (int w = slot.units.length - 1; w >= 0; w--) {
            if (slot.units[w] != 0) {
                return w * 64 + 64 - Long.numberOfLeadingZeros(slot.units[w]);
            }
        }
        return 0;
    }

    private static boolean complete(Slot slot) {
        int units = (slot.payloadEnd + 7) >>> 3;
        int full = units >>> 6;
        for (int w = 0; w < full; w++) {
            if (slot.units[w] != -1L) {
                return false;
            }
        }
        int rest = units & 63;
        return rest == 0 || (slot.units[full] & ((1L << rest) - 1)) == (1L << rest) - 1;
    }

    private void onTimer(Timer t, long now) {
        long next = Long.MAX_VALUE;
        for (Slot sl : slots) {
            if (!sl.inUse) {
                continue;
            }
            if (now - sl.deadline >= 0) {
                // RFC 792: time exceeded (reassembly) is sent only if the first fragment came.
                if (sl.headerLength > 0) {
                    MemorySegment d = sl.buffer.segment();
                    long hdr = PAYLOAD_OFFSET - sl.headerLength;
                    timeoutListener.timedOut(d, hdr, sl.headerLength + Math.min(8, firstRunLength(sl)));
                }
                abandon(sl, IpCounter.REASSEMBLY_TIMEOUTS);
            } else {
                next = Math.min(next, sl.deadline);
            }
        }
        if (next != Long.MAX_VALUE) {
            timers.schedule(timer, next);
        }
    }

    /** Bytes received contiguously from offset 0. */
    private static int firstRunLength(Slot slot) {
        int u = 0;
        while (u < UNITS && (slot.units[u >>> 6] & (1L << (u & 63))) != 0) {
            u++;
        }
        return u * 8;
    }

    private void abandon(Slot slot, IpCounter why) {
        counters.increment(why);
        slot.buffer.release(owner);
        slot.buffer = null;
        release(slot);
    }

    private static void release(Slot slot) {
        slot.inUse = false;
    }

    /** The IP header length of the datagram {@link #offer} last completed. */
    int completedHeaderLength() {
        return completedHeaderLength;
    }

    int inUse() {
        int n = 0;
        for (Slot sl : slots) {
            if (sl.inUse) {
                n++;
            }
        }
        return n;
    }

    void close() {
        timers.cancel(timer);
        for (Slot sl : slots) {
            if (sl.inUse) {
                sl.buffer.release(owner);
                sl.buffer = null;
                release(sl);
            }
        }
    }
}
