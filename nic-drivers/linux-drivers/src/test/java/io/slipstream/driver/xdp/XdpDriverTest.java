package io.slipstream.driver.xdp;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.slipstream.linux.Capabilities;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Which capabilities the driver's check names as missing: those the kernel would refuse it for. */
class XdpDriverTest {

    @Test
    void namesEachCapabilityTheKernelWouldAskForAndNoOther() {
        assertEquals(List.of("CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_BPF"), XdpDriver.missingCapabilities(Capabilities.of(), false));
        assertEquals(List.of(), XdpDriver.missingCapabilities(Capabilities.of(
                Capabilities.CAP_NET_ADMIN, Capabilities.CAP_NET_RAW, Capabilities.CAP_BPF), false));
        assertEquals(List.of("CAP_BPF"), XdpDriver.missingCapabilities(Capabilities.of(
                Capabilities.CAP_NET_ADMIN, Capabilities.CAP_NET_RAW), false));
        // CAP_SYS_ADMIN stands in for CAP_NET_ADMIN and CAP_BPF (kernels before 5.8 have no CAP_BPF), not for CAP_NET_RAW.
        assertEquals(List.of(), XdpDriver.missingCapabilities(Capabilities.of(
                Capabilities.CAP_SYS_ADMIN, Capabilities.CAP_NET_RAW), false));
        assertEquals(List.of("CAP_NET_RAW"), XdpDriver.missingCapabilities(Capabilities.of(Capabilities.CAP_SYS_ADMIN), false));
    }

    /** Entering another network namespace is setns(2), which asks for CAP_SYS_ADMIN whatever else is held. */
    @Test
    void anotherNamespaceAlsoNeedsCapSysAdmin() {
        assertEquals(List.of("CAP_SYS_ADMIN"), XdpDriver.missingCapabilities(Capabilities.of(
                Capabilities.CAP_NET_ADMIN, Capabilities.CAP_NET_RAW, Capabilities.CAP_BPF), true));
        assertEquals(List.of(), XdpDriver.missingCapabilities(Capabilities.of(
                Capabilities.CAP_SYS_ADMIN, Capabilities.CAP_NET_RAW), true));
    }
}
