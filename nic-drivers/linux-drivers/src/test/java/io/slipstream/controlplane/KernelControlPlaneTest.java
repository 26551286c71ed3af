package io.slipstream.controlplane;

import static io.slipstream.controlplane.ControlPlaneSandbox.OUR_IP;
import static io.slipstream.controlplane.ControlPlaneSandbox.PEER_IP;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.slipstream.linux.NetNamespace;
import io.slipstream.linux.Rtnetlink;
import io.slipstream.nic.HostControlPlane;
import io.slipstream.wire.Ipv4Address;
import io.slipstream.wire.MacAddress;
import java.io.IOException;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** The control plane against the kernel of a namespace, checked against iproute2's own report. */
class KernelControlPlaneTest extends SandboxedControlPlaneTest {
    @Test
    void snapshotAfterOpenMatchesIproute2() throws IOException {
        box.ip("addr", "add", "198.18.10.1/28", "dev", "v0");
        box.ip("route", "add", "default", "via", "198.18.9.2", "dev", "v0");
        box.ip("route", "add", "198.18.64.0/18", "via", "198.18.9.3", "metric", "7");
        box.ip("route", "add", "198.18.65.0/24", "dev", "v0", "src", "198.18.10.1");
        box.ip("route", "add", "blackhole", "198.18.66.0/24");
        box.ip("neigh", "add", "198.18.9.3", "lladdr", "02:53:00:00:09:03", "dev", "v0", "nud", "permanent");
        box.ip("neigh", "add", "198.18.9.4", "lladdr", "02:53:00:00:09:04", "dev", "v0", "nud", "stale");
        box.ip("link", "set", "v0", "mtu", "1400");

        KernelControlPlane cp = box.open();
        InterfaceSnapshot s = box.awaitMatchesKernel();

        assertEquals("v0", s.name());
        assertEquals(1400, s.mtu());
        assertTrue(s.up());
        assertEquals(OUR_IP, s.primaryAddress());
        assertEquals(24, s.primaryPrefixLength());
        assertEquals(MacAddress.parse("02:53:00:00:09:03"), s.macOf(Ipv4Address.parse("198.18.9.3")));
        assertEquals(MacAddress.parse("02:53:00:00:09:04"), s.macOf(Ipv4Address.parse("198.18.9.4")));
        assertEquals(Rtnetlink.NUD_PERMANENT, s.neighbourState(Ipv4Address.parse("198.18.9.3")));
        assertEquals(PEER_IP, s.defaultGateway());
        assertEquals(1, cp.counters().get(ControlPlaneCounter.RESYNCS));
        assertEquals(0, cp.counters().get(ControlPlaneCounter.PARSE_ERRORS));
        assertEquals(0, cp.counters().get(ControlPlaneCounter.INTERNAL_ERRORS));
        assertEquals(4, cp.counters().get(ControlPlaneCounter.DUMPS));
    }

    /** What a stack on v0 takes from it as its {@link HostControlPlane}: the kernel's identity, routes and neighbours. */
    @Test
    void asTheStacksHostControlPlaneItGivesTheKernelsAddressesGatewayMtuAndNeighbours() throws IOException {
        box.ip("addr", "add", "198.18.10.1/28", "dev", "v0");
        box.ip("route", "add", "default", "via", "198.18.9.2", "dev", "v0");
        HostControlPlane host = box.open();
        box.awaitMatchesKernel();
        assertEquals(List.of(new HostControlPlane.Address(OUR_IP, 24),
                new HostControlPlane.Address(Ipv4Address.parse("198.18.10.1"), 28)), host.addresses(), "primary first");
        assertEquals(PEER_IP, host.defaultGateway());
        assertEquals(1500, host.mtu());
        assertEquals(PEER_IP, host.nextHop(Ipv4Address.parse("198.19.3.3")));
        assertEquals(HostControlPlane.NO_MAC, host.neighbourMac(PEER_IP));

        AtomicInteger changes = new AtomicInteger();
        host.onChange(changes::incrementAndGet);
        box.ip("link", "set", "v0", "mtu", "1400");
        box.ip("neigh", "add", "198.18.9.2", "lladdr", "02:53:00:00:09:02", "dev", "v0", "nud", "reachable");
        box.await("the new MTU and neighbour", s -> s.mtu() == 1400 && s.macOf(PEER_IP) >= 0);
        assertEquals(1400, host.mtu());
        assertEquals(MacAddress.parse("02:53:00:00:09:02"), host.neighbourMac(PEER_IP));
        assertTrue(changes.get() >= 1, "each new snapshot is reported");
    }

    @Test
    void anInterfaceThatDoesNotExistFailsToOpen() {
        IOException e = assertThrows(IOException.class,
                () -> KernelControlPlane.open("nosuch0", NetNamespace.named(box.ours.name())));
        assertTrue(e.getMessage().contains("nosuch0"), e.getMessage());
    }

    @Test
    void closeStopsTheReaderThread() throws IOException {
        box.open();
        assertTrue(readerAlive(), "the reader runs while open");
        box.cp.close();
        assertFalse(readerAlive(), "close() joined the reader");
        assertFalse(box.cp.resolve(PEER_IP), "nothing is sent once closed");
        box.cp.close(); // idempotent
    }

    private static boolean readerAlive() {
        return Thread.getAllStackTraces().keySet().stream()
                .anyMatch(t -> t.getName().equals("slipstream-ctlplane-" + ControlPlaneSandbox.IF) && t.isAlive());
    }
}
