package io.slipstream.driver.xdp;

import io.slipstream.nic.NicConfig;
import io.slipstream.nic.NicDriver;
import io.slipstream.nic.VirtualInterface;
import io.slipstream.time.Clock;

/**
 * {@code slipstream.driver=xdp}: a virtual interface on AF_XDP sockets on an existing Linux
 * interface ({@code slipstream.interface}), sharing it with the kernel: Slipstream receives only
 * the flows added to {@link XdpInterface#filters()}, the kernel everything else, on the same
 * address. The stack takes that address, its routes and its neighbours from the kernel
 * ({@link XdpInterface#hostControlPlane()}), so {@code slipstream.address} may be left out.
 * Needs CAP_NET_ADMIN and CAP_BPF (or root).
 */
public final class XdpDriver implements NicDriver {
    public static final String NAME = "xdp";

    @Override
    public String name() {
        return NAME;
    }

    /** The interface and its address are the kernel's: the stack takes its identity from the kernel. */
    @Override
    public boolean sharesHostInterface() {
        return true;
    }

    @Override
    public VirtualInterface open(NicConfig config, Clock clock) {
        return XdpInterface.open(config, clock);
    }
}
