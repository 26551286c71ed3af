package io.slipstream.driver.xdp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.slipstream.config.ConfigException;
import io.slipstream.config.Settings;
import io.slipstream.config.StackConfig;
import io.slipstream.ip.ArpCounter;
import io.slipstream.stack.Stack;
import io.slipstream.testing.NetNs;
import io.slipstream.wire.Ipv4Address;
import io.slipstream.wire.MacAddress;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A stack on the xdp driver is the kernel on the interface it shares (a veth end in this
 * namespace, 198.19.N.1/24): without {@code slipstream.address} it takes the kernel's address,
 * prefix, gateway, MAC and MTU from the interface's control plane; an address or gateway the
 * kernel does not have there is one clear error, after which the interface is as it was.
 */
@Timeout(60)
class XdpStackIdentityTest {
    private XdpSandbox box;

    @BeforeEach
    void create() {
        XdpSandbox.assumeRoot();
        box = XdpSandbox.create(1);
    }

    @AfterEach
    void remove() {
        if (box != null) {
            box.close();
        }
    }

    private StackConfig config(String... keysAndValues) {
        Map<String, String> m = new HashMap<>();
        m.put("slipstream.driver", "xdp");
        m.put("slipstream.interface", box.local);
        m.put("slipstream.interrupt.thread", "false");
        for (int i = 0; i < keysAndValues.length; i += 2) {
            m.put(keysAndValues[i], keysAndValues[i + 1]);
        }
        return StackConfig.from(Settings.of(m));
    }

    private boolean controlPlaneThreadAlive() {
        return Thread.getAllStackTraces().keySet().stream()
                .anyMatch(t -> t.getName().equals("slipstream-ctlplane-" + box.local) && t.isAlive());
    }

    @Test
    void withoutAnAddressTheStackTakesTheKernelsAddressPrefixMacAndRoutes() {
        StackConfig configured = config();
        assertFalse(configured.hasAddress(), "slipstream.address is optional for xdp");
        try (Stack stack = Stack.open(configured)) {
            assertEquals(Ipv4Address.format(box.localIp), Ipv4Address.format(stack.address()));
            assertEquals(24, stack.config().prefixLength());
            assertEquals(Ipv4Address.ANY, stack.config().gateway(), "the kernel has no default route through it");
            assertEquals(MacAddress.parse(box.veth.localMac()), stack.mac());
            XdpInterface vi = (XdpInterface) stack.nic();
            assertSame(vi.controlPlane(), vi.hostControlPlane().orElseThrow());
            assertTrue(stack.arp().hostResolves(), "the kernel resolves; the stack speaks no ARP");
            assertEquals(box.peerIp, stack.ip().routes().nextHop(box.peerIp), "on-link, by the kernel's route");
            assertFalse(stack.ip().routable(Ipv4Address.parse("198.18.254.1")),
                    "a destination the kernel does not route through the interface is not routed here");
            assertEquals(0, stack.arp().counters().get(ArpCounter.GRATUITOUS_SENT));
            assertTrue(controlPlaneThreadAlive());
        }
        assertFalse(controlPlaneThreadAlive(), "the control plane closes with the interface");
    }

    @Test
    void aConfiguredAddressThatIsTheKernelsIsTaken() {
        try (Stack stack = Stack.open(config("slipstream.address", Ipv4Address.format(box.localIp) + "/24"))) {
            assertEquals(box.localIp, stack.address());
            assertEquals(24, stack.config().prefixLength());
        }
    }

    /** (Each test opens the interface once: the kernel may still hold a closed socket's queue for a moment.) */
    @Test
    void aConfiguredAddressTheKernelDoesNotHaveIsOneClearError() {
        String ours = Ipv4Address.format(box.localIp) + "/24";
        String wrong = Ipv4Address.format(box.peerIp) + "/24";
        ConfigException e = assertThrows(ConfigException.class,
                () -> Stack.open(config("slipstream.address", wrong)));
        assertEquals("slipstream.address: " + wrong + " is not an address of " + box.local + " on the host, which has "
                + ours + "; leave slipstream.address unset to share " + ours, e.getMessage());
        assertFalse(box.linkShow().contains("prog/xdp"), "the interface is left as it was: " + box.linkShow());
        assertFalse(controlPlaneThreadAlive());
    }

    @Test
    void aConfiguredGatewayMustBeTheKernelsDefaultGatewayThroughTheInterface() {
        ConfigException e = assertThrows(ConfigException.class,
                () -> Stack.open(config("slipstream.gateway", Ipv4Address.format(box.peerIp))));
        assertEquals("slipstream.gateway: " + Ipv4Address.format(box.peerIp) + " is not the gateway of the host's"
                + " default route through " + box.local + " (it has none); leave slipstream.gateway unset: the host's"
                + " routes decide", e.getMessage());
    }

    @Test
    void theKernelsMtuBoundsTheStacks() {
        NetNs.run("ip", "link", "set", box.local, "mtu", "1400").orThrow();
        Stack stack = Stack.open(config());
        try {
            assertEquals(1400, stack.ip().mtu(box.peerIp), "below the configured 1500");
        } finally {
            stack.close();
        }
        assertEquals(List.of(), stack.nic().buffers().leaks());
    }
}
