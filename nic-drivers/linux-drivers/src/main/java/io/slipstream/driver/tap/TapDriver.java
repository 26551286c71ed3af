package io.slipstream.driver.tap;

import io.slipstream.nic.NicConfig;
import io.slipstream.nic.NicDriver;
import io.slipstream.nic.VirtualInterface;
import io.slipstream.time.Clock;

/**
 * {@code slipstream.driver=tap}: one virtual interface on a Linux TAP device, created if absent
 * (which needs CAP_NET_ADMIN). The kernel sits on the other side of the link, so whatever
 * addresses and routes it has on the device make it Slipstream's peer.
 */
public final class TapDriver implements NicDriver {
    public static final String NAME = "tap";

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public VirtualInterface open(NicConfig config, Clock clock) {
        return TapInterface.open(config, clock);
    }
}
