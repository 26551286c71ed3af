package io.slipstream.linux;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.slipstream.testing.NetNs;
import io.slipstream.testing.VethPair;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * ETHTOOL_GCHANNELS against the kernel: a veth pair made with three queues each way reports
 * three, in the namespace of the thread that asks and only there; loopback reports no channels.
 */
class EthtoolTest {

    @Test
    void theReceiveQueuesOfAnInterfaceAreCountedInTheCallersNamespace() throws Exception {
        Assumptions.assumeTrue(NetNs.isRoot() && NetNs.onPath("ethtool"), "needs root and ethtool for a veth pair: skipped");
        try (VethPair veth = VethPair.create(3)) {
            assertEquals(3, Ethtool.rxQueues(veth.local()));
            assertEquals(-Errno.ENODEV, Ethtool.rxQueues(veth.peer()), "the peer end is not in this namespace");
            assertEquals(3, NetNamespace.call(NetNamespace.named(veth.ns().name()), () -> Ethtool.rxQueues(veth.peer())),
                    "but it is in its own");
        }
        assertEquals(-Errno.EOPNOTSUPP, Ethtool.rxQueues("lo"), "loopback's driver reports no channels");
        assertEquals(-Errno.ENODEV, Ethtool.rxQueues("a-name-too-long-for-ifreq"));
    }
}
