package io.slipstream.controlplane;

import static io.slipstream.controlplane.ControlPlaneSandbox.OUR_IP;
import static io.slipstream.controlplane.ControlPlaneSandbox.PEER_IP;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.slipstream.linux.Rtnetlink;
import io.slipstream.wire.Ipv4Address;
import java.io.IOException;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** A neighbour the kernel does not know is resolved by the kernel, on request; never by us. */
class KernelControlPlaneResolutionTest extends SandboxedControlPlaneTest {
    private KernelControlPlane cp;

    @BeforeEach
    void open() throws IOException {
        cp = box.open();
    }

    @Test
    void aPeerWithoutAnEntryIsResolvedByTheKernel() {
        assertEquals(InterfaceSnapshot.NO_ENTRY, cp.snapshot().neighbourState(PEER_IP), "no entry at start");
        assertEquals(-1, cp.neighbourMac(PEER_IP));

        assertTrue(cp.resolve(PEER_IP));

        InterfaceSnapshot s = box.await("the peer's MAC", x -> x.macOf(PEER_IP) == box.peerMac);
        assertTrue((s.neighbourState(PEER_IP) & Rtnetlink.NUD_VALID) != 0);
        assertEquals(1, cp.counters().get(ControlPlaneCounter.RESOLVE_REQUESTS));
        assertTrue(cp.counters().get(ControlPlaneCounter.NEIGHBOURS_UPDATED) >= 1);
        assertEquals(0, cp.counters().get(ControlPlaneCounter.RESOLVE_REJECTED));
        box.awaitMatchesKernel();
        // The peer learnt our address from the kernel's request: the kernel asked, as itself.
        assertTrue(box.peer.exec("ip", "neigh", "show", "198.18.9.1", "dev", "v1").orThrow().stdout()
                .contains("lladdr"), "the peer learnt the kernel's MAC from its ARP request");
    }

    @Test
    void aResolvedNeighbourIsResolvedAgainWithoutHarm() {
        assertTrue(cp.resolve(PEER_IP));
        box.await("the peer's MAC", x -> x.macOf(PEER_IP) == box.peerMac);
        assertTrue(cp.resolve(PEER_IP), "a usable entry is only confirmed");
        box.awaitMatchesKernel();
        assertEquals(box.peerMac, cp.neighbourMac(PEER_IP));
    }

    @Test
    void resolveAndLookupsAllocateNothing() {
        var threads = (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
        assertTrue(cp.resolve(PEER_IP));
        box.await("the peer's MAC", x -> x.macOf(PEER_IP) == box.peerMac);
        long sink = 0;
        for (int round = 0; round < 6; round++) { // the first ones warm up: interpreted downcalls allocate
            long before = threads.getCurrentThreadAllocatedBytes();
            for (int i = 0; i < 20_000; i++) {
                sink += cp.resolve(PEER_IP) ? 1 : 0;
                sink += cp.neighbourMac(PEER_IP) + cp.nextHop(PEER_IP);
            }
            long allocated = threads.getCurrentThreadAllocatedBytes() - before;
            if (round == 5) {
                // One allocation per call would be 16 bytes or more each; allow only a one-off.
                assertTrue(allocated < 20_000, allocated + " bytes allocated by 20000 resolve+neighbourMac+nextHop");
            }
        }
        assertTrue(sink != 0);
        assertEquals(0, cp.counters().get(ControlPlaneCounter.RESOLVE_SEND_FAILURES));
    }

    @Test
    void anAddressNobodyHasGetsNoMac() {
        int nobody = Ipv4Address.parse("198.18.9.77");
        assertTrue(cp.resolve(nobody));
        InterfaceSnapshot s = box.await("an unresolved entry", x -> x.neighbourState(nobody) != InterfaceSnapshot.NO_ENTRY);
        assertTrue((s.neighbourState(nobody) & (Rtnetlink.NUD_INCOMPLETE | Rtnetlink.NUD_FAILED)) != 0,
                "INCOMPLETE or FAILED: " + s.neighbourState(nobody));
        assertEquals(-1, s.macOf(nobody));
    }

    @Test
    void ourOwnAndNonUnicastAddressesAreNeverResolved() {
        assertFalse(cp.resolve(OUR_IP));
        assertFalse(cp.resolve(Ipv4Address.BROADCAST));
        assertFalse(cp.resolve(Ipv4Address.parse("224.0.0.1")));
        assertFalse(cp.resolve(Ipv4Address.ANY));
        assertEquals(0, cp.counters().get(ControlPlaneCounter.RESOLVE_REQUESTS));
    }
}
