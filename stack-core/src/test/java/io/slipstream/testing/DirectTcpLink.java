package io.slipstream.testing;

import io.slipstream.buffer.BufferOwner;
import io.slipstream.buffer.BufferPool;
import io.slipstream.buffer.PacketBuffer;
import io.slipstream.ip.Ipv4Output;
import io.slipstream.ip.ReceiveVerdict;
import io.slipstream.tcp.TcpLayer;

/**
 * Two TCP layers joined by a zero-allocation link: sent segments wait in a fixed ring of
 * (buffer, source, destination) until {@link #pump()} hands them to the addressed layer. No
 * IP, no NIC: what it measures or tests is TCP alone. Used by the allocation test and the
 * TCP path benchmarks.
 */
public final class DirectTcpLink {
    private static final int RING = 4096;

    private final BufferPool pool;
    private final int addressA;
    private final int addressB;
    private final BufferOwner wire = new BufferOwner("direct-link");
    private final PacketBuffer[] ring = new PacketBuffer[RING];
    private final int[] src = new int[RING];
    private final int[] dst = new int[RING];
    private int head;
    private int tail;
    public TcpLayer a;
    public TcpLayer b;

    public DirectTcpLink(BufferPool pool, int addressA, int addressB) {
        this.pool = pool;
        this.addressA = addressA;
        this.addressB = addressB;
    }

    /** The output a layer at {@code self} sends through. */
    public Ipv4Output output(int self) {
        return new LinkOutput(pool, self) {
            @Override
            public int mtu(int destination) {
                return 1500;
            }

            @Override
            public boolean routable(int destination) {
                return true;
            }

            @Override
            public void send(PacketBuffer d, BufferOwner from, int s, int t, int protocol, int tos, boolean df) {
                d.transfer(from, wire);
                ring[tail & (RING - 1)] = d;
                src[tail & (RING - 1)] = s;
                dst[tail & (RING - 1)] = t;
                tail++;
            }
        };
    }

    /** Segments sent and not yet delivered. */
    public int pending() {
        return tail - head;
    }

    /** Removes the oldest pending segment and returns it, owned by {@link #owner()}; null if none. */
    public PacketBuffer take() {
        if (head == tail) {
            return null;
        }
        PacketBuffer p = ring[head & (RING - 1)];
        ring[head & (RING - 1)] = null;
        head++;
        return p;
    }

    /** The owner of buffers on the link (and of those {@link #take()} returns). */
    public BufferOwner owner() {
        return wire;
    }

    /** Delivers every pending segment, including those sent while delivering. */
    public void pump() {
        while (head != tail) {
            int i = head & (RING - 1);
            PacketBuffer p = ring[i];
            int s = src[i];
            int t = dst[i];
            ring[i] = null;
            head++;
            TcpLayer to = t == addressA ? a : b;
            if (to.receive(p, wire, s, t, 0) != ReceiveVerdict.KEPT) {
                p.release(wire);
            }
        }
    }
}
