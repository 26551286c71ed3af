package io.slipstream.driver.memory;

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
final class MemoryTxRing extends MemoryRing implements TxRing {
    private static final VarHandle COMPLETED = VarHandles.field(MethodHandles.lookup(), "completed", long.class);

    /** Frames ever posted; written by the stack's thread only. */
    private long postedCount;
    /** Frames ever completed; written under the link lock, read by the stack's thread. */
    @SuppressWarnings("unused") // accessed through COMPLETED
    private long completed;

    MemoryTxRing(MemoryInterface vi, int capacity) {
        super(vi, "tx ring", capacity);
    }

    /** Posted frames wait in {@link #lent} (only the stack's thread touches it) until the doorbell. */
    @Override
    public boolean post(PacketBuffer frame) {
        if (!super.post(frame)) {
            return false;
        }
        postedCount++;
        return true;
    }

    @Override
    public void doorbell() {
        vi.checkOpen();
        if (!lent.isEmpty()) {
            vi.transmitWaiting();
        }
    }

    /** The next frame waiting for the wire, or null. Stack thread only. */
    PacketBuffer nextWaiting() {
        return lent.poll();
    }

    /** One frame's descriptor is free again. Under the link lock. */
    void completedOne() {
        COMPLETED.setRelease(this, (long) COMPLETED.getOpaque(this) + 1);
    }

    @Override
    public int posted() {
        return (int) (postedCount - (long) COMPLETED.getAcquire(this));
    }
}
