package io.slipstream.driver.xdp;

import static io.slipstream.driver.xdp.XdpFilters.PROTO_TCP;
import static io.slipstream.driver.xdp.XdpFilters.PROTO_UDP;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.slipstream.wire.Ipv4Address;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The filter maps, written through the API and read back from the kernel through bpf(2). */
class XdpFiltersTest {
    private static final int LOCAL = Ipv4Address.parse("198.19.1.1");
    private static final int REMOTE = Ipv4Address.parse("198.19.1.2");

    @BeforeEach
    void root() {
        XdpProgramTest.assumeRoot();
    }

    @Test
    void listenersAreAddedReadBackAndRemoved() {
        try (XdpFilters f = XdpFilters.create("test", XdpNamespace.OWN, 64, 16)) {
            f.addListener(PROTO_TCP, LOCAL, 8080);
            f.addListener(PROTO_TCP, 0, 8443); // wildcard bind
            assertTrue(f.hasListener(PROTO_TCP, LOCAL, 8080));
            assertTrue(f.hasListener(PROTO_TCP, 0, 8443));
            assertFalse(f.hasListener(PROTO_UDP, LOCAL, 8080), "the protocol is part of the key");
            assertFalse(f.hasListener(PROTO_TCP, REMOTE, 8080), "so is the address");
            assertEquals(2, f.listenerEntries());

            assertTrue(f.removeListener(PROTO_TCP, LOCAL, 8080));
            assertFalse(f.removeListener(PROTO_TCP, LOCAL, 8080), "already gone");
            assertFalse(f.hasListener(PROTO_TCP, LOCAL, 8080));
            assertEquals(1, f.listenerEntries());
        }
    }

    @Test
    void connectionsAreKeyedByTheFullFourTuple() {
        try (XdpFilters f = XdpFilters.create("test", XdpNamespace.OWN, 64, 16)) {
            f.addConnection(PROTO_TCP, LOCAL, 40000, REMOTE, 80);
            assertTrue(f.hasConnection(PROTO_TCP, LOCAL, 40000, REMOTE, 80));
            assertFalse(f.hasConnection(PROTO_TCP, LOCAL, 40000, REMOTE, 81));
            assertFalse(f.hasConnection(PROTO_TCP, LOCAL, 80, REMOTE, 40000), "local and remote are not symmetric");
            assertFalse(f.hasConnection(PROTO_UDP, LOCAL, 40000, REMOTE, 80));
            assertEquals(1, f.connectionEntries());
            assertTrue(f.removeConnection(PROTO_TCP, LOCAL, 40000, REMOTE, 80));
            assertEquals(0, f.connectionEntries());
        }
    }

    @Test
    void udpBindsKeepTheirAddresssFragmentEntryWhileAnyIsBound() {
        try (XdpFilters f = XdpFilters.create("test", XdpNamespace.OWN, 64, 16)) {
            f.addListener(PROTO_UDP, LOCAL, 5000);
            f.addListener(PROTO_UDP, LOCAL, 5001);
            assertTrue(f.hasListener(PROTO_UDP, LOCAL, 0), "fragments follow the address: its port-0 entry");
            assertEquals(3, f.listenerEntries(), "two ports and one fragment entry");
            f.removeListener(PROTO_UDP, LOCAL, 5000);
            assertEquals(2, f.listenerEntries(), "one socket is still bound");
            f.removeListener(PROTO_UDP, LOCAL, 5001);
            assertEquals(0, f.listenerEntries(), "the last one takes the fragment entry along");
            assertFalse(f.hasListener(PROTO_UDP, LOCAL, 0));
            f.addListener(PROTO_TCP, LOCAL, 5000);
            assertEquals(1, f.listenerEntries(), "TCP needs no fragment entry");
        }
    }

    @Test
    void aFullMapIsReportedAndBadArgumentsAreRefused() {
        try (XdpFilters f = XdpFilters.create("test", XdpNamespace.OWN, 2, 16)) {
            f.addConnection(PROTO_TCP, LOCAL, 1, REMOTE, 80);
            f.addConnection(PROTO_TCP, LOCAL, 2, REMOTE, 80);
            BpfException e = assertThrows(BpfException.class, () -> f.addConnection(PROTO_TCP, LOCAL, 3, REMOTE, 80));
            assertTrue(e.getMessage().contains("the map is full"), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> f.addListener(1, LOCAL, 80));
            assertThrows(IllegalArgumentException.class, () -> f.addListener(PROTO_TCP, LOCAL, 0));
            assertThrows(IllegalArgumentException.class, () -> f.addListener(PROTO_TCP, LOCAL, 65536));
        }
        XdpFilters closed = XdpFilters.create("test", XdpNamespace.OWN, 2, 2);
        closed.close();
        closed.close(); // idempotent
        assertThrows(IllegalStateException.class, () -> closed.addListener(PROTO_TCP, LOCAL, 80));
    }
}
