package io.slipstream.linux;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.slipstream.testing.NetNs;
import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/** The effective set as the kernel reports it, for a process that has capabilities and one that has none. */
class CapabilitiesTest {

    @Test
    void readsTheEffectiveSetNotTheOthers() {
        Capabilities c = Capabilities.parse(List.of("Name:\tjava", "CapInh:\t0000000000000000",
                "CapPrm:\t000001ffffffffff", "CapEff:\t0000008000003000", "CapBnd:\t000001ffffffffff"));
        assertTrue(c.has(Capabilities.CAP_NET_ADMIN));
        assertTrue(c.has(Capabilities.CAP_NET_RAW));
        assertTrue(c.has(Capabilities.CAP_BPF));
        assertFalse(c.has(Capabilities.CAP_SYS_ADMIN));
        assertThrows(IllegalStateException.class, () -> Capabilities.parse(List.of("Name:\tjava")));
    }

    @Test
    void rootHasWhatANetworkDriverNeedsAndAProcessWithItsCapabilitiesDroppedHasNone() {
        Assumptions.assumeTrue(NetNs.isRoot() && NetNs.onPath("setpriv"), "needs root and setpriv: skipped");
        Capabilities self = Capabilities.ofThisProcess();
        assertTrue(self.has(Capabilities.CAP_NET_ADMIN) && self.has(Capabilities.CAP_NET_RAW), self::toString);

        NetNs.Result dropped = NetNs.run("setpriv", "--inh-caps=-all", "--bounding-set=-all", "cat", "/proc/self/status")
                .orThrow();
        Capabilities none = Capabilities.parse(dropped.stdout().lines().toList());
        for (int cap : new int[] {Capabilities.CAP_NET_ADMIN, Capabilities.CAP_NET_RAW, Capabilities.CAP_SYS_ADMIN,
                Capabilities.CAP_BPF}) {
            assertFalse(none.has(cap), none + " has " + cap);
        }
        assertEquals("CapEff=0", none.toString());
    }
}
