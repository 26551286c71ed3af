package io.slipstream.ip;

import io.slipstream.nic.FlowSteering;
import java.util.function.BooleanSupplier;

/**
 * What the TCP and UDP layers take alike from the stack that assembles them: the NIC's flow
 * steering (which ports and flows the NIC delivers, and holds outside the stack) with the
 * stack's own address to steer on, and the test of the stack lock behind their entry points'
 * asserts. Both are set once, before the stack serves anything; guarded by the stack lock.
 */
public abstract class TransportLayer implements Ipv4Transport {
    /** Which flows the NIC delivers (AF_XDP shares its port with the kernel). */
    protected FlowSteering steering = FlowSteering.ALL;
    /** The stack's own address, on which listeners and bound ports are steered. */
    protected int steeringAddress;
    private BooleanSupplier lockHeld = () -> true;

    /** The NIC's flow steering, and the stack's address {@code localAddress} to steer on. */
    public final void steering(FlowSteering steering, int localAddress) {
        this.steering = steering;
        this.steeringAddress = localAddress;
    }

    /**
     * How this layer tells whether the calling thread holds the stack lock, for the assertions
     * at its entry points (the stack package depends on the transports, so the lock comes as a
     * test). Until set, a layer standing alone (tests, benchmarks) counts as always held.
     */
    public final void lockCheck(BooleanSupplier heldByCurrentThread) {
        this.lockHeld = heldByCurrentThread;
    }

    /** For {@code assert}s at the entry points: whether the stack lock is held by this thread. */
    public final boolean lockHeld() {
        return lockHeld.getAsBoolean();
    }
}
