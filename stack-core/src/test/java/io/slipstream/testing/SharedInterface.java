package io.slipstream.testing;

import io.slipstream.buffer.BufferOwner;
import io.slipstream.buffer.BufferPool;
import io.slipstream.nic.EventQueue;
import io.slipstream.nic.FlowSteering;
import io.slipstream.nic.HostControlPlane;
import io.slipstream.nic.Interrupt;
import io.slipstream.nic.NicStats;
import io.slipstream.nic.NicTimer;
import io.slipstream.nic.RxRing;
import io.slipstream.nic.TxRing;
import io.slipstream.nic.VirtualInterface;
import java.util.Optional;

/**
 * A NIC that shares its host's interface, as an AF_XDP one does, for stack-core's tests: a
 * memory interface (its rings, events and timer, unchanged) with a host control plane the
 * test writes ({@link HostTables}). The test plays the host's tables, the link's far end plays
 * its neighbours.
 */
public final class SharedInterface implements VirtualInterface {
    private final VirtualInterface nic;
    private final HostControlPlane host;
    private volatile boolean closed;

    public SharedInterface(VirtualInterface nic, HostControlPlane host) {
        this.nic = nic;
        this.host = host;
    }

    @Override
    public Optional<HostControlPlane> hostControlPlane() {
        return Optional.of(host);
    }

    @Override
    public String name() {
        return nic.name();
    }

    @Override
    public long mac() {
        return nic.mac();
    }

    @Override
    public int mtu() {
        return nic.mtu();
    }

    @Override
    public BufferPool buffers() {
        return nic.buffers();
    }

    @Override
    public BufferOwner stackOwner() {
        return nic.stackOwner();
    }

    @Override
    public RxRing rx() {
        return nic.rx();
    }

    @Override
    public TxRing tx() {
        return nic.tx();
    }

    @Override
    public EventQueue events() {
        return nic.events();
    }

    @Override
    public NicTimer timer() {
        return nic.timer();
    }

    @Override
    public Interrupt interrupt() {
        return nic.interrupt();
    }

    @Override
    public NicStats stats() {
        return nic.stats();
    }

    @Override
    public FlowSteering steering() {
        return nic.steering();
    }

    /** Whether the stack closed this interface. */
    public boolean closed() {
        return closed;
    }

    @Override
    public void close() {
        closed = true;
        nic.close();
    }
}
