package io.slipstream.stack;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.slipstream.config.ConfigException;
import io.slipstream.config.Settings;
import io.slipstream.config.StackConfig;
import io.slipstream.nic.NicConfig;
import io.slipstream.nic.NicDriver;
import io.slipstream.nic.VirtualInterface;
import io.slipstream.testing.HostTables;
import io.slipstream.testing.SharedInterface;
import io.slipstream.testing.StackPair;
import io.slipstream.time.VirtualClock;
import io.slipstream.wire.Ipv4Address;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The stack's identity is settled when its NIC is open ({@link StackIdentity}): on a NIC of its
 * own it is the configured address, which is then required; on a NIC that shares the host's
 * interface it is the host's, and a configuration that says otherwise is one clear error.
 */
class StackIdentityTest {
    private static final long NIC_MAC = 0x02_00_00_00_00_42L;
    private static final long CONFIGURED_MAC = 0x02_00_00_00_00_43L;

    private final VirtualClock clock = new VirtualClock();
    private final String link = StackPair.newLink("identity");
    private VirtualInterface nic;

    @AfterEach
    void closeNic() {
        if (nic != null) {
            nic.close();
        }
    }

    /** A memory NIC of its own, or sharing {@code host}'s interface when it is not null. */
    private VirtualInterface nic(HostTables host) {
        VirtualInterface memory = NicDriver.byName("memory").open(NicConfig.of(link, NIC_MAC, Map.of()), clock);
        nic = host == null ? memory : new SharedInterface(memory, host);
        return nic;
    }

    /** The configuration for the memory link: {@code cidr}, or the host's address when null. */
    private StackConfig config(String cidr, String gateway) {
        Map<String, String> m = new HashMap<>();
        m.put("slipstream.mac", "02:00:00:00:00:43");
        if (gateway != null) {
            m.put("slipstream.gateway", gateway);
        }
        StackConfig c = StackPair.config(link, cidr == null ? "198.18.2.2/24" : cidr, m);
        return cidr == null
                ? new StackConfig(c.driver(), c.interfaceName(), Ipv4Address.ANY, StackConfig.FROM_HOST, c.gateway(),
                        c.mac(), c.settings())
                : c;
    }

    private static HostTables host() {
        return new HostTables().address("198.18.2.2/24").address("198.18.3.2/28")
                .defaultGateway(Ipv4Address.parse("198.18.2.1"));
    }

    private static int ip(String s) {
        return Ipv4Address.parse(s);
    }

    @Test
    void withoutAnAddressTheStackSharesTheHostsPrimaryAddressPrefixGatewayAndTheInterfacesMac() {
        StackConfig c = StackIdentity.settle(config(null, null), nic(host()));
        assertTrue(c.hasAddress());
        assertEquals(ip("198.18.2.2"), c.address());
        assertEquals(24, c.prefixLength());
        assertEquals(ip("198.18.2.1"), c.gateway());
        assertEquals(NIC_MAC, c.mac(), "the interface's MAC, not slipstream.mac: the host's frames and ours share it");
    }

    @Test
    void aConfiguredAddressOfTheHostIsTakenEvenASecondaryOne() {
        StackConfig primary = StackIdentity.settle(config("198.18.2.2/24", "198.18.2.1"), nic(host()));
        assertEquals(ip("198.18.2.2"), primary.address());
        StackConfig secondary = StackIdentity.settle(config("198.18.3.2/28", null), nic);
        assertEquals(ip("198.18.3.2"), secondary.address());
        assertEquals(28, secondary.prefixLength());
        assertEquals(Ipv4Address.ANY, secondary.gateway(), "off this subnet the host's routes still decide");
    }

    @Test
    void aConfiguredAddressTheHostDoesNotHaveIsOneErrorNamingTheHostsAddresses() {
        ConfigException e = assertThrows(ConfigException.class,
                () -> StackIdentity.settle(config("198.18.2.9/24", null), nic(host())));
        assertEquals("slipstream.address: 198.18.2.9/24 is not an address of " + link + " on the host, which has"
                + " 198.18.2.2/24, 198.18.3.2/28; leave slipstream.address unset to share 198.18.2.2/24", e.getMessage());
        ConfigException prefix = assertThrows(ConfigException.class,
                () -> StackIdentity.settle(config("198.18.2.2/16", null), nic));
        assertTrue(prefix.getMessage().startsWith("slipstream.address: 198.18.2.2/16 is not an address of"),
                "the host's prefix is part of its address: " + prefix.getMessage());
    }

    @Test
    void aConfiguredGatewayOtherThanTheHostsIsAnError() {
        ConfigException e = assertThrows(ConfigException.class,
                () -> StackIdentity.settle(config("198.18.2.2/24", "198.18.2.9"), nic(host())));
        assertEquals("slipstream.gateway: 198.18.2.9 is not the gateway of the host's default route through " + link
                + " (198.18.2.1); leave slipstream.gateway unset: the host's routes decide", e.getMessage());
        HostTables noDefault = new HostTables().address("198.18.2.2/24");
        ConfigException none = assertThrows(ConfigException.class,
                () -> StackIdentity.settle(config(null, "198.18.2.1"), new SharedInterface(nic, noDefault)));
        assertTrue(none.getMessage().contains("(it has none)"), none.getMessage());
    }

    @Test
    void aHostWithoutAnAddressOnTheInterfaceIsAnError() {
        ConfigException e = assertThrows(ConfigException.class,
                () -> StackIdentity.settle(config(null, null), nic(new HostTables())));
        assertEquals("slipstream.address: " + link + " has no IPv4 address on the host; the stack shares the host's"
                + " address there, so give the interface one first", e.getMessage());
    }

    @Test
    void withoutAHostTheAddressIsRequiredWithTheErrorTheConfigurationGives() {
        ConfigException fromSettings = assertThrows(ConfigException.class, () -> StackConfig.from(Settings.of(Map.of(
                "slipstream.driver", "memory", "slipstream.interface", link))));
        ConfigException atOpen = assertThrows(ConfigException.class,
                () -> StackIdentity.settle(config(null, null), nic(null)));
        assertEquals(fromSettings.getMessage(), atOpen.getMessage());
        assertTrue(atOpen.getMessage().startsWith("slipstream.address (or SLIPSTREAM_ADDRESS) is required"));
        StackConfig own = StackIdentity.settle(config("198.18.2.2/24", null), nic);
        assertEquals(CONFIGURED_MAC, own.mac(), "a NIC of its own keeps the configured identity as it is");
    }

    @Test
    void theMtuIsTheHostsButNoMoreThanTheConfiguredOne() {
        HostTables host = host().mtu(1400);
        assertEquals(1400, StackIdentity.mtu(nic(host)));
        host.mtu(9000);
        assertEquals(NicConfig.DEFAULT_MTU, StackIdentity.mtu(nic));
        host.mtu(0);
        assertEquals(NicConfig.DEFAULT_MTU, StackIdentity.mtu(nic), "a host that does not know it leaves the NIC's");
    }

    @Test
    void aStackOnTheHostsInterfaceRunsOnTheSettledIdentityAndSendsNoArp() {
        HostTables host = host().mtu(1400);
        SharedInterface shared = (SharedInterface) nic(host);
        nic = null; // the stack closes it
        try (Stack stack = Stack.start(config(null, null), shared, clock)) {
            assertEquals(ip("198.18.2.2"), stack.address());
            assertEquals(ip("198.18.2.2"), stack.config().address());
            assertEquals(24, stack.config().prefixLength());
            assertEquals(1400, stack.ip().mtu(ip("198.18.2.9")));
            assertTrue(stack.arp().hostResolves());
            assertEquals(ip("198.18.2.1"), stack.ip().routes().nextHop(ip("198.19.0.1")), "the host's default route");
            assertEquals(0, stack.nic().stats().get(io.slipstream.nic.NicCounter.TX_FRAMES), "no gratuitous ARP");
        }
        assertTrue(shared.closed());
    }

    @Test
    void aStackWhoseIdentityCannotBeSettledClosesItsNic() {
        SharedInterface shared = (SharedInterface) nic(host());
        nic = null;
        ConfigException e = assertThrows(ConfigException.class, () -> Stack.start(config("198.18.2.9/24", null), shared, clock));
        assertFalse(e.getMessage().contains("\n"), "one line");
        assertTrue(shared.closed(), "the NIC the stack was given is closed");
        assertEquals(List.of(), shared.buffers().leaks());
    }
}
