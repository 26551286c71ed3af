package io.slipstream.nic;

import io.slipstream.buffer.BufferOwner;
import io.slipstream.buffer.BufferPool;
import java.util.Optional;

/**
 * One virtual interface of a NIC (onload's VI): the rings, event queue, timer and interrupt
 * through which one stack sends and receives Ethernet frames. Opened by a {@link NicDriver}.
 *
 * <p>Threading: the stack side (rings' post, doorbell, event poll, timer) is called by one
 * thread at a time, the holder of the stack lock; {@link Interrupt#await} is called by the
 * stack's interrupt thread concurrently with that. What the NIC side does concurrently
 * (another stack's thread delivering frames, a device) is the driver's business.
 */
public interface VirtualInterface extends AutoCloseable {
    /** The interface name as configured ({@code slipstream.interface}). */
    String name();

    /** The stack's own MAC address on this interface (48 bits). */
    long mac();

    /** Largest IP datagram the link carries (the Ethernet payload). */
    int mtu();

    /** Frames the stack receives into and sends from. */
    BufferPool buffers();

    /** The owner of every buffer the stack holds (acquired, or handed back by events). */
    BufferOwner stackOwner();

    RxRing rx();

    TxRing tx();

    EventQueue events();

    NicTimer timer();

    Interrupt interrupt();

    NicStats stats();

    /** Which flows reach the stack; {@link FlowSteering#ALL} for a NIC that delivers its whole link. */
    default FlowSteering steering() {
        return FlowSteering.ALL;
    }

    /**
     * The control plane of the host whose interface this NIC shares (AF_XDP), which the stack
     * then takes its address, routes and neighbours from; empty for a NIC that has its link to
     * itself (memory, TAP). The NIC closes it with itself.
     */
    default Optional<HostControlPlane> hostControlPlane() {
        return Optional.empty();
    }

    /**
     * Stops the interface and returns every buffer held by its rings to the pool, then frees
     * the pool. After close no event is delivered.
     */
    @Override
    void close();
}
