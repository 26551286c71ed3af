package io.slipstream.driver.xdp;

import io.slipstream.nic.NicConfig;
import io.slipstream.nic.NicDriver;
import io.slipstream.nic.VirtualInterface;
import io.slipstream.time.Clock;

/**
 * {@code slipstream.driver=xdp}: a virtual interface on AF_XDP sockets on an existing Linux
 * interface ({@code slipstream.interface}), sharing it with the kernel: Slipstream receives only
 * the flows added to {@link XdpInterface#filters()}, the kernel everything else, on the same
 * address. Needs CAP_NET_ADMIN and CAP_BPF (or root).
 */
public final class XdpDriver implements NicDriver {
    public static final String NAME = "xdp";

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public VirtualInterface open(NicConfig config, Clock clock) {
        return XdpInterface.open(config, clock);
    }
}
