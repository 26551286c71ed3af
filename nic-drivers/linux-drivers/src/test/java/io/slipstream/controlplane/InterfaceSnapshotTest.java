package io.slipstream.controlplane;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.slipstream.linux.Rtnetlink;
import io.slipstream.wire.Ipv4Address;
import java.lang.management.ManagementFactory;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Lookups on a snapshot built here: longest prefix, neighbour states, addresses, no allocation. */
class InterfaceSnapshotTest {
    private static final int OURS = 3;
    private static final int OTHER = 4;
    private static final int UNREACHABLE = 7;

    private static int ip(String s) {
        return Ipv4Address.parse(s);
    }

    private static InterfaceSnapshot.Route route(String dst, int len, String gw, int oif, int metric) {
        return new InterfaceSnapshot.Route(ip(dst), len, gw == null ? 0 : ip(gw), oif, metric, 0, Rtnetlink.RTN_UNICAST);
    }

    private static InterfaceSnapshot snapshot() {
        return new InterfaceSnapshot(1, OURS, "v0", 0x02_53_00_00_09_01L, 1500,
                Rtnetlink.IFF_UP | Rtnetlink.IFF_LOWER_UP,
                List.of(new int[] {ip("198.18.9.1"), 24}, new int[] {ip("198.18.10.1"), 28}),
                List.of(route("0.0.0.0", 0, "198.18.9.2", OURS, 0),
                        route("198.18.9.0", 24, null, OURS, 0),
                        route("198.18.10.0", 28, null, OURS, 0),
                        route("198.18.0.0", 16, "198.18.9.3", OURS, 0),
                        route("198.18.128.0", 24, "198.18.9.4", OURS, 0),
                        route("198.18.200.7", 32, "198.18.9.5", OURS, 0),
                        route("198.18.80.0", 24, "198.18.9.6", OURS, 10),
                        route("198.18.80.0", 24, "198.18.9.7", OURS, 5),
                        route("198.18.60.0", 24, "198.18.50.2", OTHER, 0),
                        new InterfaceSnapshot.Route(ip("198.18.70.0"), 24, 0, 0, 0, 0, UNREACHABLE)),
                List.of(new InterfaceSnapshot.Neighbour(ip("198.18.9.2"), 0x02_53_00_00_09_02L, Rtnetlink.NUD_REACHABLE),
                        new InterfaceSnapshot.Neighbour(ip("198.18.9.3"), 0x02_53_00_00_09_03L, Rtnetlink.NUD_STALE),
                        new InterfaceSnapshot.Neighbour(ip("198.18.9.4"), 0x02_53_00_00_09_04L, Rtnetlink.NUD_PERMANENT),
                        new InterfaceSnapshot.Neighbour(ip("198.18.9.5"), -1, Rtnetlink.NUD_INCOMPLETE),
                        new InterfaceSnapshot.Neighbour(ip("198.18.9.6"), 0x02_53_00_00_09_06L, Rtnetlink.NUD_FAILED)));
    }

    @Test
    void theLongestPrefixWinsThenTheLowestMetric() {
        InterfaceSnapshot s = snapshot();
        assertEquals(ip("198.18.9.2"), s.nextHop(ip("198.19.0.1")));
        assertEquals(ip("198.18.9.3"), s.nextHop(ip("198.18.1.1")));
        assertEquals(ip("198.18.9.4"), s.nextHop(ip("198.18.128.1")));
        assertEquals(ip("198.18.9.5"), s.nextHop(ip("198.18.200.7")));
        assertEquals(ip("198.18.9.3"), s.nextHop(ip("198.18.200.8")));
        assertEquals(ip("198.18.9.7"), s.nextHop(ip("198.18.80.80")));
        assertEquals(ip("198.18.9.99"), s.nextHop(ip("198.18.9.99")), "on-link");
        assertEquals(InterfaceSnapshot.NO_ROUTE, s.nextHop(ip("198.18.60.1")), "leaves through another interface");
        assertEquals(InterfaceSnapshot.NO_ROUTE, s.nextHop(ip("198.18.70.1")), "unreachable");
        assertEquals(Ipv4Address.BROADCAST, s.nextHop(Ipv4Address.BROADCAST));
        assertEquals(ip("198.18.10.1"), s.sourceAddress(ip("198.18.10.2")), "the address on the subnet");
        assertEquals(ip("198.18.9.1"), s.sourceAddress(ip("198.19.0.1")), "the one on the gateway's subnet");
        assertEquals(ip("198.18.9.2"), s.defaultGateway());
    }

    @Test
    void onlyUsableNeighbourStatesGiveAMac() {
        InterfaceSnapshot s = snapshot();
        assertEquals(0x02_53_00_00_09_02L, s.macOf(ip("198.18.9.2")));
        assertEquals(0x02_53_00_00_09_03L, s.macOf(ip("198.18.9.3")));
        assertEquals(0x02_53_00_00_09_04L, s.macOf(ip("198.18.9.4")));
        assertEquals(-1, s.macOf(ip("198.18.9.5")), "INCOMPLETE");
        assertEquals(-1, s.macOf(ip("198.18.9.6")), "FAILED, whatever address it had");
        assertEquals(-1, s.macOf(ip("198.18.9.9")), "no entry");
        assertEquals(Rtnetlink.NUD_FAILED, s.neighbourState(ip("198.18.9.6")));
        assertEquals(InterfaceSnapshot.NO_ENTRY, s.neighbourState(ip("198.18.9.9")));
    }

    @Test
    void thePrimaryAddressIsTheFirstAndAnInterfaceMayHaveNone() {
        InterfaceSnapshot s = snapshot();
        assertEquals(ip("198.18.9.1"), s.primaryAddress());
        assertEquals(24, s.primaryPrefixLength());
        assertEquals(2, s.addressCount());
        assertEquals(ip("198.18.10.1"), s.address(1));
        assertEquals(28, s.prefixLength(1));
        assertTrue(s.isLocal(ip("198.18.10.1")));
        InterfaceSnapshot none = new InterfaceSnapshot(1, OURS, "v0", -1, 1500, 0, List.of(), List.of(), List.of());
        assertEquals(Ipv4Address.ANY, none.primaryAddress());
        assertEquals(Ipv4Address.ANY, none.defaultGateway());
        assertFalse(none.up());
    }

    @Test
    void lookupsAllocateNothing() {
        var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        InterfaceSnapshot s = snapshot();
        int[] destinations = {ip("198.19.0.1"), ip("198.18.1.1"), ip("198.18.200.7"), ip("198.18.9.2"),
            ip("198.18.9.5"), ip("198.18.60.1")};
        long sink = 0;
        for (int round = 0; round < 3; round++) {
            long before = threads.getCurrentThreadAllocatedBytes();
            for (int i = 0; i < 100_000; i++) {
                int d = destinations[i % destinations.length];
                sink += s.nextHop(d) + s.macOf(d) + s.sourceAddress(d) + s.neighbourState(d) + (s.isLocal(d) ? 1 : 0);
            }
            long allocated = threads.getCurrentThreadAllocatedBytes() - before;
            if (round == 2) {
                assertTrue(allocated < 1000, allocated + " bytes allocated by 100000 rounds of lookups");
            }
        }
        assertTrue(sink != 0);
    }
}
