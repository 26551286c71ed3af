package io.slipstream.ip;

import static io.slipstream.testing.RawPeer.PEER_IP;
import static io.slipstream.testing.RawPeer.PEER_MAC;
import static io.slipstream.testing.RawPeer.STACK_IP;
import static io.slipstream.testing.RawPeer.STACK_MAC;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.slipstream.stack.RuntimeCounter;
import io.slipstream.stack.Stack;
import io.slipstream.testing.HostTables;
import io.slipstream.testing.RawPeer;
import io.slipstream.udp.UdpSocket;
import io.slipstream.wire.Arp;
import io.slipstream.wire.Ethernet;
import io.slipstream.wire.Ipv4;
import io.slipstream.wire.Ipv4Address;
import io.slipstream.wire.MacAddress;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.BindException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A stack on a NIC that shares its host's interface (AF_XDP's case) leaves neighbours and routes
 * to the host (docs/ARCHITECTURE.md, "The kernel's control plane"): it sends and answers no
 * ARP, sends each frame to the MAC the host has for the next hop the host's routes give, holds
 * frames while the host resolves (RFC 1122 §2.3.2.2), flushes them when the host has the MAC,
 * and reports a neighbour the host never resolves as host-unreachable. The host is a
 * {@link HostTables} the test writes; the raw end of the link plays the neighbours, on a
 * virtual clock; the test thread is the stack's application thread (it has entered it).
 */
class HostResolvedNeighboursTest {
    private static final int ROUTER = Ipv4Address.parse("198.18.2.254");
    private static final long ROUTER_MAC = 0x02_00_00_00_00_99L;
    private static final int OTHER_ROUTER = Ipv4Address.parse("198.18.2.253");
    private static final long OTHER_ROUTER_MAC = 0x02_00_00_00_00_98L;
    /** Beyond the routers (198.18.0.0/15 is never routed off this machine). */
    private static final int FAR = Ipv4Address.parse("198.19.77.7");

    private final HostTables host = new HostTables().address("198.18.2.2/24");
    @RegisterExtension
    final RawPeer peer = RawPeer.entered(Map.of(), host, null);

    private long count(ArpCounter c) {
        return peer.stack.arp().counters().get(c);
    }

    private UdpSocket sendTo(int destination, int... payloads) throws BindException {
        UdpSocket socket = peer.stack.udp().open();
        for (int p : payloads) {
            socket.send(ByteBuffer.wrap(new byte[] {(byte) p}), destination, 6000);
        }
        peer.settle();
        return socket;
    }

    /** The UDP frames the stack sent since the last look, each checked to carry no ARP around it. */
    private List<MemorySegment> sentUdp() {
        List<MemorySegment> udp = new ArrayList<>();
        for (byte[] f : peer.take()) {
            MemorySegment s = MemorySegment.ofArray(f);
            assertFalse(Ethernet.outerType(s, 0) == Ethernet.TYPE_ARP, "the stack sent ARP");
            if (Ipv4.protocol(s, Ethernet.HEADER_LENGTH) == Ipv4.PROTO_UDP) {
                udp.add(s);
            }
        }
        return udp;
    }

    @Test
    void rfc826_aNeighbourTheHostKnowsGetsTheFrameAtOnceAndNoArpIsSent() throws BindException {
        host.set(PEER_IP, PEER_MAC);
        sendTo(PEER_IP, 1);
        List<MemorySegment> sent = sentUdp();
        assertEquals(1, sent.size());
        assertEquals(PEER_MAC, Ethernet.destination(sent.get(0), 0));
        assertEquals(1, count(ArpCounter.HOST_HITS));
        assertEquals(0, count(ArpCounter.REQUESTS_SENT));
        assertEquals(0, count(ArpCounter.GRATUITOUS_SENT), "the address is the host's: it announced it, not the stack");
        assertEquals(List.of(), host.resolveRequests());
        assertEquals(PEER_MAC, peer.stack.arp().lookup(PEER_IP), "the host's table is the stack's");
    }

    @Test
    void rfc1122_framesForANeighbourTheHostMustResolveWaitAndLeaveInOrderWhenItReportsTheMac() throws BindException {
        sendTo(PEER_IP, 0, 1, 2);
        assertEquals(List.of(), sentUdp(), "held while the host resolves");
        assertEquals(List.of(PEER_IP), host.resolveRequests(), "the host is asked once for all three, no ARP request");
        assertEquals(3, count(ArpCounter.HOST_MISSES));
        assertEquals(3, count(ArpCounter.QUEUED));
        assertEquals(1, count(ArpCounter.HOST_RESOLVE_REQUESTS));

        host.learn(PEER_IP, PEER_MAC); // reported as the kernel's control plane reports: the next pass looks
        peer.settle(); // no virtual time passes: the retry timer has no part in it
        List<MemorySegment> sent = sentUdp();
        assertEquals(3, sent.size());
        for (int i = 0; i < 3; i++) {
            assertEquals(PEER_MAC, Ethernet.destination(sent.get(i), 0));
            assertEquals(i, sent.get(i).get(ValueLayout.JAVA_BYTE, 42), "in the order they were sent");
        }
        assertEquals(1, count(ArpCounter.HOST_RESOLVED));
        assertEquals(1, peer.stack.runtimeCounters().get(RuntimeCounter.HOST_CHANGES));
        assertEquals(1, peer.stack.runtimeCounters().get(RuntimeCounter.HOST_CHANGE_LOOKS));
        assertEquals(List.of(PEER_IP), host.resolveRequests());
    }

    @Test
    void rfc1122_theRetryTimerLooksInTheHostsTableBeforeAskingAgain() throws BindException {
        sendTo(PEER_IP, 7);
        host.set(PEER_IP, PEER_MAC); // resolved, with no change reported
        peer.settle();
        assertEquals(List.of(), sentUdp());
        peer.advance(ArpTable.DEFAULT_RETRY_NANOS);
        peer.settle();
        assertEquals(1, sentUdp().size(), "the retry found the MAC");
        assertEquals(List.of(PEER_IP), host.resolveRequests(), "and did not ask again");
        assertEquals(1, count(ArpCounter.HOST_RESOLVED));
    }

    @Test
    void rfc1122_aNeighbourTheHostNeverResolvesIsReportedAsHostUnreachable() throws BindException {
        UdpSocket client = peer.stack.udp().open();
        client.connect(PEER_IP, 7);
        client.send(ByteBuffer.wrap(new byte[] {42}), 0, 0);
        peer.settle();
        for (int i = 0; i < ArpTable.DEFAULT_RETRIES && !client.isReadable(); i++) {
            peer.advance(ArpTable.DEFAULT_RETRY_NANOS);
            peer.settle();
        }
        assertEquals(UdpSocket.Error.HOST_UNREACHABLE, client.takeError());
        assertEquals(List.of(PEER_IP, PEER_IP, PEER_IP), host.resolveRequests(), "asked once per retry");
        assertEquals(1, count(ArpCounter.RESOLUTION_FAILURES));
        assertEquals(1, count(ArpCounter.UNRESOLVED_DROPS));
        assertEquals(List.of(), peer.take(), "nothing on the wire: no datagram, no ARP");
    }

    @Test
    void aRequestTheHostDoesNotTakeIsCountedAndMadeAgainOnTheTimer() throws BindException {
        host.refuseResolve(true);
        sendTo(PEER_IP, 1);
        assertEquals(1, count(ArpCounter.HOST_RESOLVE_NOT_SENT));
        peer.advance(ArpTable.DEFAULT_RETRY_NANOS);
        peer.settle();
        assertEquals(2, count(ArpCounter.HOST_RESOLVE_NOT_SENT));
        host.refuseResolve(false);
        peer.advance(ArpTable.DEFAULT_RETRY_NANOS);
        peer.settle();
        assertEquals(List.of(PEER_IP), host.resolveRequests());
        host.learn(PEER_IP, PEER_MAC);
        peer.settle();
        assertEquals(1, sentUdp().size());
    }

    @Test
    void rfc826_arpFromTheLinkIsNeitherAnsweredNorLearnedFrom() {
        peer.deliver(RawPeer.arp(Arp.OP_REQUEST, PEER_MAC, PEER_IP, MacAddress.ZERO, STACK_IP),
                RawPeer.arp(Arp.OP_REPLY, PEER_MAC, PEER_IP, STACK_MAC, STACK_IP));
        assertEquals(List.of(), peer.take(), "the host answers for its address, not the stack");
        assertEquals(2, count(ArpCounter.HOST_ARP_IGNORED));
        assertEquals(0, count(ArpCounter.REPLIES_SENT));
        assertEquals(-1, peer.stack.arp().lookup(PEER_IP), "only the host learns");
    }

    @Test
    void rfc1122_anEntryDueForConfirmationIsConfirmedByTheHostWhileFramesKeepGoing() throws BindException {
        host.set(PEER_IP, PEER_MAC);
        UdpSocket socket = sendTo(PEER_IP, 1);
        assertEquals(1, sentUdp().size());
        peer.advance(ArpTable.DEFAULT_REACHABLE_NANOS);
        for (int i = 0; i < 2; i++) {
            socket.send(ByteBuffer.wrap(new byte[] {2}), PEER_IP, 6000);
        }
        peer.settle();
        assertEquals(2, sentUdp().size(), "sent at once, to the MAC the host has");
        // The stack's traffic never refreshes the host's entry: the host is asked to confirm it
        // (the kernel probes a STALE one), once per reachable time.
        assertEquals(List.of(PEER_IP), host.resolveRequests());
        assertEquals(3, count(ArpCounter.HOST_HITS));
    }

    @Test
    void aNeighbourTheHostLosesIsResolvedAfresh() throws BindException {
        host.set(PEER_IP, PEER_MAC);
        UdpSocket socket = sendTo(PEER_IP, 1);
        assertEquals(1, sentUdp().size());
        host.set(PEER_IP, -1); // the kernel's entry failed or was deleted
        socket.send(ByteBuffer.wrap(new byte[] {2}), PEER_IP, 6000);
        peer.settle();
        assertEquals(List.of(), sentUdp());
        assertEquals(List.of(PEER_IP), host.resolveRequests());
        host.learn(PEER_IP, PEER_MAC);
        peer.settle();
        assertEquals(1, sentUdp().size());
    }

    @Test
    void aDestinationOffTheSubnetGoesToTheGatewayOfTheHostsDefaultRoute() throws BindException {
        host.defaultGateway(ROUTER);
        sendTo(FAR, 1);
        assertEquals(List.of(ROUTER), host.resolveRequests(), "the gateway is resolved, not the destination");
        host.learn(ROUTER, ROUTER_MAC);
        peer.settle();
        List<MemorySegment> sent = sentUdp();
        assertEquals(1, sent.size());
        assertEquals(ROUTER_MAC, Ethernet.destination(sent.get(0), 0));
        assertEquals(FAR, Ipv4.destination(sent.get(0), Ethernet.HEADER_LENGTH));
        assertEquals(STACK_IP, Ipv4.source(sent.get(0), Ethernet.HEADER_LENGTH));
    }

    @Test
    void theHostsLongestPrefixRouteWinsOverItsDefaultRoute() throws BindException {
        host.defaultGateway(ROUTER).route(Ipv4Address.parse("198.19.77.0"), 24, OTHER_ROUTER);
        host.set(ROUTER, ROUTER_MAC);
        host.set(OTHER_ROUTER, OTHER_ROUTER_MAC);
        sendTo(FAR, 1);
        sendTo(Ipv4Address.parse("198.19.1.1"), 2);
        List<MemorySegment> sent = sentUdp();
        assertEquals(2, sent.size());
        assertEquals(OTHER_ROUTER_MAC, Ethernet.destination(sent.get(0), 0), "198.19.77.0/24 via the other router");
        assertEquals(ROUTER_MAC, Ethernet.destination(sent.get(1), 0), "the rest via the default route");
        assertEquals(OTHER_ROUTER, peer.stack.ip().routes().nextHop(FAR));
    }

    @Test
    void aDestinationTheHostDoesNotRouteHasNoRoute() throws BindException {
        assertFalse(peer.stack.ip().routable(FAR), "no default route, nothing covers it");
        UdpSocket socket = peer.stack.udp().open();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> socket.connect(FAR, 7));
        assertTrue(e.getMessage().contains("no route"), e.getMessage());
        assertTrue(peer.stack.ip().routable(Ipv4Address.parse("198.18.2.77")), "the connected subnet");
    }

    /**
     * The host reports on its own thread; that thread touches no stack state but wakes the
     * stack's interrupt thread, whose pass flushes the held frame: nobody else polls the stack
     * here, and no virtual time passes for the retry timer.
     */
    @Test
    void aChangeReportedOnTheHostsThreadWakesTheStackWhichFlushesByItself() throws Exception {
        HostTables shared = new HostTables().address("198.18.2.2/24");
        try (RawPeer p = new RawPeer(Map.of("slipstream.interrupt.thread", "true"), shared, null)) {
            Stack stack = p.stack;
            stack.enter();
            try {
                stack.udp().open().send(ByteBuffer.wrap(new byte[] {9}), PEER_IP, 6000);
            } finally {
                stack.exit();
            }
            assertEquals(List.of(PEER_IP), shared.resolveRequests());
            Thread hostThread = Thread.ofPlatform().name("test-host-control-plane")
                    .start(() -> shared.learn(PEER_IP, PEER_MAC));
            hostThread.join(5_000);
            long deadline = System.nanoTime() + 5_000_000_000L;
            List<byte[]> frames = new ArrayList<>();
            while (frames.isEmpty()) {
                frames.addAll(p.take()); // polls the raw end only
                if (System.nanoTime() - deadline > 0) {
                    fail("the held frame never left; runtime " + stack.runtimeCounters());
                }
                Thread.sleep(1);
            }
            MemorySegment f = MemorySegment.ofArray(frames.get(0));
            assertEquals(PEER_MAC, Ethernet.destination(f, 0));
            assertEquals(Ipv4.PROTO_UDP, Ipv4.protocol(f, Ethernet.HEADER_LENGTH));
            assertTrue(stack.runtimeCounters().get(RuntimeCounter.HOST_CHANGES) >= 1);
            assertTrue(stack.runtimeCounters().get(RuntimeCounter.HOST_CHANGE_LOOKS) >= 1);
        }
    }
}
