package io.slipstream.ip;

import static io.slipstream.testing.RawPeer.PEER_IP;
import static io.slipstream.testing.RawPeer.PEER_MAC;
import static io.slipstream.testing.RawPeer.STACK_IP;
import static io.slipstream.testing.RawPeer.STACK_MAC;
import static io.slipstream.testing.StackPair.A_ADDRESS;
import static io.slipstream.testing.StackPair.B_ADDRESS;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.slipstream.testing.RawPeer;
import io.slipstream.testing.StackPair;
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
import java.util.List;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * ARP (RFC 826) and the neighbour cache around it (RFC 1122 §2.3.2): requests answered and
 * learned from, the merge rule, probes and announcements, datagrams held while their next hop
 * resolves, stale entries confirmed by unicast, and a neighbour that never answers. Between two
 * stacks, and against ARP packets the test writes itself ({@link RawPeer}).
 */
class ArpTest {
    private static final long PEER_NEW_MAC = 0x02_00_00_00_00_78L;
    private static final int ANOTHER_HOST = Ipv4Address.parse("198.18.2.9");

    @Test
    void rfc826_arpResolvesAndPingIsAnswered() {
        try (StackPair p = StackPair.entered()) {
            int[] replies = new int[1];
            p.a.icmp().setEchoListener((src, id, seq, len, now) -> {
                assertEquals(B_ADDRESS, src);
                assertEquals(0x1234, id);
                assertEquals(7, seq);
                assertEquals(56, len);
                replies[0]++;
            });
            assertTrue(p.a.icmp().sendEcho(B_ADDRESS, 0x1234, 7, 56));
            p.runUntil(() -> replies[0] == 1);
            assertEquals(p.b.mac(), p.a.arp().lookup(B_ADDRESS), "A resolved B's MAC");
            assertEquals(p.a.mac(), p.b.arp().lookup(A_ADDRESS), "B learned A from the request addressed to it");
            assertEquals(1, p.b.ip().counters().get(IpCounter.ICMP_ECHO_REPLIES_SENT));
            p.assertHealthy();
        }
    }

    @Test
    void rfc826_gratuitousArpIsSentAtStartAndTeachesNothingUnasked() {
        try (StackPair p = StackPair.entered()) {
            p.settle();
            assertEquals(1, p.a.arp().counters().get(ArpCounter.GRATUITOUS_SENT));
            // RFC 826: a host adds an entry only when it is the target; nobody asked for A.
            assertEquals(-1, p.b.arp().lookup(A_ADDRESS));
        }
    }

    @Test
    void rfc1122_anUnansweredNextHopIsReportedAsHostUnreachable() throws BindException {
        try (StackPair p = StackPair.entered()) {
            int nobody = Ipv4Address.parse("198.18.0.99");
            UdpSocket client = p.a.udp().open();
            client.connect(nobody, 7);
            client.send(ByteBuffer.wrap(new byte[] {42}), 0, 0);
            p.runUntil(client::isReadable, 10_000_000_000L, 10_000_000L);
            assertEquals(UdpSocket.Error.HOST_UNREACHABLE, client.takeError());
            assertEquals(3, p.a.arp().counters().get(ArpCounter.REQUESTS_SENT));
            assertEquals(1, p.a.arp().counters().get(ArpCounter.UNRESOLVED_DROPS));
            assertEquals(-1, p.a.arp().lookup(nobody));
        }
    }

    /** Against ARP packets the test writes itself. */
    @Nested
    class AgainstRawPackets {
        @RegisterExtension
        final RawPeer peer = RawPeer.entered();

        /** The peer asks for the stack's address, so the stack learns it (and answers, which is forgotten). */
        private void learnThePeer() {
            peer.deliver(RawPeer.arp(Arp.OP_REQUEST, PEER_MAC, PEER_IP, MacAddress.ZERO, STACK_IP));
            peer.take();
        }

        private long count(ArpCounter c) {
            return peer.stack.arp().counters().get(c);
        }

        @Test
        void rfc826_aRequestForOurAddressIsAnsweredAndTeachesUsTheAsker() {
            peer.deliver(RawPeer.arp(Arp.OP_REQUEST, PEER_MAC, PEER_IP, MacAddress.ZERO, STACK_IP));
            List<byte[]> sent = peer.take();
            assertEquals(1, sent.size(), "one reply");
            MemorySegment reply = MemorySegment.ofArray(sent.get(0));
            assertEquals(PEER_MAC, Ethernet.destination(reply, 0), "unicast to the asker");
            assertEquals(Ethernet.TYPE_ARP, Ethernet.outerType(reply, 0));
            assertEquals(Arp.OP_REPLY, Arp.operation(reply, Ethernet.HEADER_LENGTH));
            assertEquals(STACK_MAC, Arp.senderMac(reply, Ethernet.HEADER_LENGTH));
            assertEquals(STACK_IP, Arp.senderIp(reply, Ethernet.HEADER_LENGTH));
            assertEquals(PEER_MAC, Arp.targetMac(reply, Ethernet.HEADER_LENGTH));
            assertEquals(PEER_IP, Arp.targetIp(reply, Ethernet.HEADER_LENGTH));
            assertEquals(PEER_MAC, peer.stack.arp().lookup(PEER_IP), "the target of a request learns its sender");
            assertEquals(1, count(ArpCounter.REQUESTS_RECEIVED));
            assertEquals(1, count(ArpCounter.REPLIES_SENT));
        }

        @Test
        void rfc826_aRequestForAnotherHostIsNeitherAnsweredNorLearnedFrom() {
            peer.deliver(RawPeer.arp(Arp.OP_REQUEST, PEER_MAC, PEER_IP, MacAddress.ZERO, ANOTHER_HOST));
            assertEquals(List.of(), peer.take());
            assertEquals(-1, peer.stack.arp().lookup(PEER_IP), "only the target adds its sender");
            assertEquals(0, peer.stack.arp().size());
            assertEquals(1, count(ArpCounter.REQUESTS_RECEIVED));
            assertEquals(0, count(ArpCounter.REPLIES_SENT));
        }

        @Test
        void rfc826_anyArpPacketFromAKnownSenderUpdatesItsEntry() throws BindException {
            learnThePeer();
            // The peer's interface changed: it announces its address with the new MAC (a
            // gratuitous request, RFC 5227 §3). Not for us, but the merge flag is set.
            peer.deliver(RawPeer.arp(Arp.OP_REQUEST, PEER_NEW_MAC, PEER_IP, MacAddress.ZERO, PEER_IP));
            assertEquals(List.of(), peer.take(), "an announcement is not answered");
            assertEquals(PEER_NEW_MAC, peer.stack.arp().lookup(PEER_IP));
            assertEquals(1, peer.stack.arp().size());
            UdpSocket socket = peer.stack.udp().open();
            socket.send(ByteBuffer.wrap(new byte[] {1}), PEER_IP, 6000);
            peer.settle();
            List<MemorySegment> sent = peer.takeIpv4(Ipv4.PROTO_UDP);
            assertEquals(1, sent.size());
            assertEquals(PEER_NEW_MAC, Ethernet.destination(sent.get(0), 0), "traffic follows the update at once");
        }

        @Test
        void rfc5227_aProbeForOurAddressIsAnsweredButTeachesNothing() {
            // A probe: sender address 0.0.0.0, from a host checking whether our address is taken.
            peer.deliver(RawPeer.arp(Arp.OP_REQUEST, PEER_MAC, Ipv4Address.ANY, MacAddress.ZERO, STACK_IP));
            List<byte[]> sent = peer.take();
            assertEquals(1, sent.size(), "the reply tells the prober the address is in use");
            MemorySegment reply = MemorySegment.ofArray(sent.get(0));
            assertEquals(PEER_MAC, Ethernet.destination(reply, 0));
            assertEquals(Arp.OP_REPLY, Arp.operation(reply, Ethernet.HEADER_LENGTH));
            assertEquals(STACK_IP, Arp.senderIp(reply, Ethernet.HEADER_LENGTH));
            assertEquals(0, peer.stack.arp().size(), "0.0.0.0 is nobody's address");
        }

        @Test
        void rfc1122_datagramsWaitForTheirNextHopAndLeaveInOrderOnceResolved() throws BindException {
            UdpSocket socket = peer.stack.udp().open();
            for (int i = 0; i < 3; i++) {
                socket.send(ByteBuffer.wrap(new byte[] {(byte) i}), PEER_IP, 6000);
            }
            assertEquals(3, count(ArpCounter.QUEUED));
            assertEquals(1, count(ArpCounter.REQUESTS_SENT), "one request for all three");
            peer.settle(); // the peer answers the request; the held datagrams go out
            List<MemorySegment> sent = peer.takeIpv4(Ipv4.PROTO_UDP);
            assertEquals(3, sent.size());
            for (int i = 0; i < 3; i++) {
                MemorySegment s = sent.get(i);
                assertEquals(PEER_MAC, Ethernet.destination(s, 0));
                assertEquals(i, s.get(ValueLayout.JAVA_BYTE, 42), "in the order they were sent");
            }
            assertEquals(1, count(ArpCounter.REQUESTS_SENT));
            assertEquals(0, count(ArpCounter.QUEUE_FULL_DROPS));
        }

        @Test
        void rfc1122_aStaleEntryKeepsServingWhileAUnicastRequestConfirmsIt() throws BindException {
            learnThePeer();
            peer.raw.answerArp(0); // this test answers by hand, to see the request
            peer.advance(ArpTable.DEFAULT_REACHABLE_NANOS);
            UdpSocket socket = peer.stack.udp().open();
            socket.send(ByteBuffer.wrap(new byte[] {1}), PEER_IP, 6000);
            peer.settle();
            List<byte[]> sent = peer.take();
            assertEquals(2, sent.size(), "a request to confirm the entry, and the datagram");
            MemorySegment request = MemorySegment.ofArray(sent.get(0));
            MemorySegment datagram = MemorySegment.ofArray(sent.get(1));
            assertEquals(Ethernet.TYPE_IPV4, Ethernet.outerType(datagram, 0));
            assertEquals(PEER_MAC, Ethernet.destination(datagram, 0), "sent at once, to the MAC still known");
            assertEquals(Ethernet.TYPE_ARP, Ethernet.outerType(request, 0));
            assertEquals(Arp.OP_REQUEST, Arp.operation(request, Ethernet.HEADER_LENGTH));
            assertEquals(PEER_IP, Arp.targetIp(request, Ethernet.HEADER_LENGTH));
            assertEquals(PEER_MAC, Ethernet.destination(request, 0), "unicast poll (RFC 1122 §2.3.2.1)");

            peer.deliver(RawPeer.arp(Arp.OP_REPLY, PEER_MAC, PEER_IP, STACK_MAC, STACK_IP));
            peer.clock.advance(ArpTable.DEFAULT_RETRY_NANOS * ArpTable.DEFAULT_RETRIES);
            peer.settle();
            assertEquals(List.of(), peer.take(), "confirmed: no retry");
            assertEquals(1, count(ArpCounter.REQUESTS_SENT));
            assertEquals(PEER_MAC, peer.stack.arp().lookup(PEER_IP));
        }
    }
}
