package io.slipstream.driver.memory;

import io.slipstream.buffer.BufferOwner;
import io.slipstream.buffer.PacketBuffer;
import io.slipstream.concurrent.VarHandles;
import io.slipstream.nic.TxRing;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * Frames one end queues for the link. Posted frames wait here until the doorbell puts them on
 * the wire; a frame keeps its descriptor (counts in {@link #posted()}) until it is completed,
 * so a slow or delayed link fills the ring and pushes back on the stack, as a real NIC does.
 */
final class MemoryTxRing implements TxRing {
    private static final VarHandle COMPLETED = VarHandles.field(MethodHandles.lookup(), "completed", long.class);

    private final MemoryInterface vi;
    private final BufferOwner owner;
    /** Posted, not yet on the wire: only the stack's thread touches it. */
    private final HandoffRing waiting;
    private final int capacity;
    /** Frames ever posted; written by the stack's thread only. */
    private long postedCount;
    /** Frames ever completed; written under the link lock, read by the stack's thread. */
    @SuppressWarnings("unused") // accessed through COMPLETED
    private long completed;

    MemoryTxRing(MemoryInterface vi, int capacity) {
        this.vi = vi;
        this.owner = new BufferOwner(vi.label() + " tx ring");
        this.waiting = new HandoffRing(capacity);
        this.capacity = capacity;
    }

    BufferOwner owner() {
        return owner;
    }

    @Override
    public boolean post(PacketBuffer frame) {
        vi.checkPostable(frame);
        if (posted() >= capacity) {
            return false;
        }
        frame.transfer(vi.stackOwner(), owner);
        waiting.offer(frame, (byte) 0); // cannot fail: waiting frames are a subset of posted ones
        postedCount++;
        return true;
    }

    @Override
    public void doorbell() {
        vi.checkOpen();
        if (!waiting.isEmpty()) {
            vi.transmitWaiting();
        }
    }

    /** The next frame waiting for the wire, or null. Stack thread only. */
    PacketBuffer nextWaiting() {
        return waiting.poll();
    }

    /** One frame's descriptor is free again. Under the link lock. */
    void completedOne() {
        COMPLETED.setRelease(this, (long) COMPLETED.getOpaque(this) + 1);
    }

    @Override
    public int capacity() {
        return capacity;
    }

    @Override
    public int posted() {
        return (int) (postedCount - (long) COMPLETED.getAcquire(this));
    }
}
