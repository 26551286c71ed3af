package io.slipstream.controlplane;

import static io.slipstream.controlplane.ControlPlaneSandbox.PEER_IP;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.slipstream.linux.Rtnetlink;
import io.slipstream.wire.Ipv4Address;
import io.slipstream.wire.MacAddress;
import java.io.IOException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Changes made with {@code ip} reach the snapshot through notifications, and each kind is counted. */
class KernelControlPlaneUpdatesTest extends SandboxedControlPlaneTest {
    private static final int NEW_ADDRESS = Ipv4Address.parse("198.18.11.1");
    private static final int FAR = Ipv4Address.parse("198.18.12.34");
    private static final int NEIGHBOUR = Ipv4Address.parse("198.18.9.3");

    private KernelControlPlane cp;

    @BeforeEach
    void open() throws IOException {
        cp = box.open();
    }

    @AfterEach
    void nothingWasMalformed() {
        if (cp != null) {
            assertEquals(0, cp.counters().get(ControlPlaneCounter.PARSE_ERRORS), () -> cp.lastParseError());
            assertEquals(0, cp.counters().get(ControlPlaneCounter.INTERNAL_ERRORS), () -> cp.firstInternalError());
        }
    }

    private long count(ControlPlaneCounter c) {
        return cp.counters().get(c);
    }

    @Test
    void anAddressComesAndGoes() {
        box.ip("addr", "add", "198.18.11.1/24", "dev", "v0");
        box.await("the new address", s -> s.isLocal(NEW_ADDRESS));
        InterfaceSnapshot s = box.awaitMatchesKernel();
        assertEquals(Ipv4Address.parse("198.18.11.9"), s.nextHop(Ipv4Address.parse("198.18.11.9")),
                "its prefix route came too");
        assertEquals(1, count(ControlPlaneCounter.ADDRESSES_ADDED));

        box.ip("addr", "del", "198.18.11.1/24", "dev", "v0");
        s = box.await("the address gone", x -> !x.isLocal(NEW_ADDRESS));
        box.awaitMatchesKernel();
        assertEquals(1, count(ControlPlaneCounter.ADDRESSES_REMOVED));
        assertTrue(count(ControlPlaneCounter.ROUTES_ADDED) >= 1);
    }

    @Test
    void aRouteComesAndGoes() {
        box.ip("route", "add", "198.18.12.0/24", "via", "198.18.9.2");
        box.await("the route", s -> s.nextHop(FAR) == PEER_IP);
        box.awaitMatchesKernel();
        assertEquals(1, count(ControlPlaneCounter.ROUTES_ADDED));

        box.ip("route", "replace", "198.18.12.0/24", "via", "198.18.9.3");
        box.await("the replaced route", s -> s.nextHop(FAR) == NEIGHBOUR);
        box.awaitMatchesKernel();

        box.ip("route", "del", "198.18.12.0/24");
        box.await("no route", s -> s.nextHop(FAR) == InterfaceSnapshot.NO_ROUTE);
        box.awaitMatchesKernel();
        assertEquals(1, count(ControlPlaneCounter.ROUTES_REMOVED));
    }

    @Test
    void aNeighbourComesChangesAndGoes() {
        long first = MacAddress.parse("02:53:00:00:09:03");
        long second = MacAddress.parse("02:53:00:00:09:33");
        box.ip("neigh", "add", "198.18.9.3", "lladdr", "02:53:00:00:09:03", "dev", "v0", "nud", "permanent");
        box.await("the neighbour", s -> s.macOf(NEIGHBOUR) == first);
        box.awaitMatchesKernel();
        assertEquals(1, count(ControlPlaneCounter.NEIGHBOURS_UPDATED));

        box.ip("neigh", "replace", "198.18.9.3", "lladdr", "02:53:00:00:09:33", "dev", "v0", "nud", "reachable");
        InterfaceSnapshot s = box.await("its new MAC", x -> x.macOf(NEIGHBOUR) == second);
        assertTrue((s.neighbourState(NEIGHBOUR) & Rtnetlink.NUD_VALID) != 0);
        assertTrue(count(ControlPlaneCounter.NEIGHBOURS_UPDATED) >= 2);

        box.ip("neigh", "del", "198.18.9.3", "dev", "v0");
        s = box.await("the neighbour gone", x -> x.neighbourState(NEIGHBOUR) == InterfaceSnapshot.NO_ENTRY
                || (x.neighbourState(NEIGHBOUR) & Rtnetlink.NUD_VALID) == 0);
        assertEquals(-1, s.macOf(NEIGHBOUR));
        box.awaitMatchesKernel();
        assertTrue(count(ControlPlaneCounter.NEIGHBOURS_REMOVED) + count(ControlPlaneCounter.NEIGHBOURS_UPDATED) >= 3);
    }

    @Test
    void theMtuChanges() {
        box.ip("link", "set", "v0", "mtu", "1280");
        box.await("MTU 1280", s -> s.mtu() == 1280);
        box.awaitMatchesKernel();
        assertEquals(1, count(ControlPlaneCounter.MTU_CHANGES));
        assertTrue(count(ControlPlaneCounter.LINK_UPDATES) >= 1);
    }

    @Test
    void theLinkGoesDownAndUpAndTheRoutesTheKernelDroppedSilentlyGoToo() {
        box.ip("route", "add", "default", "via", "198.18.9.2");
        box.await("the default route", s -> s.defaultGateway() == PEER_IP);

        box.ip("link", "set", "v0", "down");
        InterfaceSnapshot s = box.await("down", x -> !x.up());
        s = box.awaitMatchesKernel();
        assertEquals(InterfaceSnapshot.NO_ROUTE, s.nextHop(FAR), "no routes through a link that is down");
        assertEquals(1, count(ControlPlaneCounter.LINK_DOWN));

        box.ip("link", "set", "v0", "up");
        box.await("up", x -> x.up() && x.carrier());
        s = box.awaitMatchesKernel();
        assertEquals(PEER_IP, s.nextHop(PEER_IP), "the prefix route is back");
        assertEquals(1, count(ControlPlaneCounter.LINK_UP));
        assertTrue(count(ControlPlaneCounter.PARTIAL_RESYNCS) >= 2);
    }

    @Test
    void theInterfaceIsDeletedThenMadeAgainUnderItsName() {
        int firstIndex = cp.snapshot().index();
        box.ip("link", "del", "v0"); // and v1 with it
        InterfaceSnapshot s = box.await("the interface gone", x -> x.index() == 0);
        assertEquals(0, s.addressCount());
        assertEquals(InterfaceSnapshot.NO_ROUTE, s.nextHop(PEER_IP));
        assertEquals(1, count(ControlPlaneCounter.LINK_REMOVED));

        box.ip("link", "add", "v0", "type", "veth", "peer", "name", "v1", "netns", box.peer.name());
        box.ip("addr", "add", "198.18.9.1/24", "dev", "v0");
        box.ip("link", "set", "v0", "up");
        box.peer.exec("ip", "link", "set", "v1", "up").orThrow();
        s = box.await("the new v0 with its address", x -> x.index() != 0 && x.isLocal(ControlPlaneSandbox.OUR_IP));
        assertTrue(s.index() != firstIndex, "a new interface index");
        box.awaitMatchesKernel();
    }
}
