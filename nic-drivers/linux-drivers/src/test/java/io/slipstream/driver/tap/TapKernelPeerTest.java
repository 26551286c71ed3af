package io.slipstream.driver.tap;

import static io.slipstream.driver.tap.TapSandbox.OUR_IP;
import static io.slipstream.driver.tap.TapSandbox.OUR_MAC;
import static io.slipstream.driver.tap.TapSandbox.PEER_IP;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.slipstream.buffer.PacketBuffer;
import io.slipstream.nic.NicCounter;
import io.slipstream.wire.Arp;
import io.slipstream.wire.Ethernet;
import io.slipstream.wire.Ipv4;
import io.slipstream.wire.Ipv4Address;
import io.slipstream.wire.MacAddress;
import io.slipstream.wire.Udp;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** The Linux kernel as the peer on the far side of the TAP link: ARP and UDP, both ways. */
class TapKernelPeerTest extends SandboxedTapTest {
    private static final int ARP_OFF = Ethernet.HEADER_LENGTH;
    private static final int IP_OFF = Ethernet.HEADER_LENGTH;

    @Test
    void kernelAnswersOurArpRequestWithItsMac() throws InterruptedException {
        box.send(box.arpFrame(MacAddress.BROADCAST, Arp.OP_REQUEST, MacAddress.ZERO, PEER_IP));

        PacketBuffer reply = box.awaitFrame("ARP reply from " + Ipv4Address.format(PEER_IP),
                b -> TapSandbox.isArp(b, Arp.OP_REPLY) && Arp.senderIp(b.segment(), ARP_OFF) == PEER_IP);
        try {
            MemorySegment s = reply.segment();
            assertEquals(MacAddress.format(box.peerMac), MacAddress.format(Arp.senderMac(s, ARP_OFF)),
                    "the reply names the namespace interface's MAC");
            assertEquals(MacAddress.format(box.peerMac), MacAddress.format(Ethernet.source(s, 0)));
            assertEquals(MacAddress.format(OUR_MAC), MacAddress.format(Ethernet.destination(s, 0)));
            assertEquals(MacAddress.format(OUR_MAC), MacAddress.format(Arp.targetMac(s, ARP_OFF)));
            assertEquals(Ipv4Address.format(OUR_IP), Ipv4Address.format(Arp.targetIp(s, ARP_OFF)));
            assertEquals(0, reply.offset(), "rx range starts at the frame");
        } finally {
            reply.release(box.vi.stackOwner());
        }
        box.pollUntil("our request completes", () -> box.events.txCompleted == 1);
        assertEquals(1, box.vi.stats().get(NicCounter.TX_FRAMES));
        assertEquals(Ethernet.MIN_FRAME_LENGTH, box.vi.stats().get(NicCounter.TX_BYTES));
        assertEquals(0, box.vi.stats().get(NicCounter.TX_ERRORS));
        assertTrue(box.vi.stats().get(NicCounter.RX_FRAMES) >= 1);
        assertEquals(0, box.vi.tx().posted(), "completed frames leave the ring");
    }

    @Test
    void kernelResolvesUsThenDeliversItsUdpDatagram() throws InterruptedException {
        // ASCII only: the command line passes through the platform encoding, which may be C/POSIX.
        String payload = "slipstream over tap: 0123456789 %s \\n {}[]";
        byte[] expected = payload.getBytes(StandardCharsets.UTF_8);
        // bash's /dev/udp: the kernel's own UDP socket sends one datagram to 198.18.7.2:9999.
        box.ns.exec("bash", "-c", "printf %s \"$0\" > /dev/udp/" + Ipv4Address.format(OUR_IP) + "/9999", payload)
                .orThrow();

        // Nobody has answered for 198.18.7.2 yet, so the kernel asks first.
        PacketBuffer request = box.awaitFrame("ARP request for " + Ipv4Address.format(OUR_IP),
                b -> TapSandbox.isArp(b, Arp.OP_REQUEST) && Arp.targetIp(b.segment(), ARP_OFF) == OUR_IP);
        try {
            MemorySegment s = request.segment();
            assertEquals(MacAddress.BROADCAST, Ethernet.destination(s, 0));
            assertEquals(MacAddress.format(box.peerMac), MacAddress.format(Arp.senderMac(s, ARP_OFF)));
            assertEquals(Ipv4Address.format(PEER_IP), Ipv4Address.format(Arp.senderIp(s, ARP_OFF)));
        } finally {
            request.release(box.vi.stackOwner());
        }
        box.send(box.arpFrame(box.peerMac, Arp.OP_REPLY, box.peerMac, PEER_IP));

        PacketBuffer datagram = box.awaitFrame("UDP datagram to port 9999", b -> isUdpTo(b, 9999));
        try {
            MemorySegment s = datagram.segment();
            assertEquals(MacAddress.format(OUR_MAC), MacAddress.format(Ethernet.destination(s, 0)));
            assertEquals(MacAddress.format(box.peerMac), MacAddress.format(Ethernet.source(s, 0)));
            assertNull(Ipv4.validate(s, IP_OFF, datagram.length() - IP_OFF));
            assertEquals(Ipv4Address.format(PEER_IP), Ipv4Address.format(Ipv4.source(s, IP_OFF)));
            int udpOff = IP_OFF + Ipv4.headerLength(s, IP_OFF);
            int udpLength = Ipv4.totalLength(s, IP_OFF) - Ipv4.headerLength(s, IP_OFF);
            assertNull(Udp.validate(s, udpOff, udpLength, PEER_IP, OUR_IP), "UDP length and checksum");
            assertEquals(Udp.HEADER_LENGTH + expected.length, Udp.length(s, udpOff));
            byte[] received = s.asSlice(udpOff + Udp.HEADER_LENGTH, expected.length).toArray(ValueLayout.JAVA_BYTE);
            assertArrayEquals(expected, received, "payload bytes");
        } finally {
            datagram.release(box.vi.stackOwner());
        }
        box.pollUntil("our reply completes", () -> box.events.txCompleted == 1);
    }

    private static boolean isUdpTo(PacketBuffer b, int port) {
        MemorySegment s = b.segment();
        if (b.length() < IP_OFF + Ipv4.MIN_HEADER_LENGTH + Udp.HEADER_LENGTH
                || Ethernet.outerType(s, 0) != Ethernet.TYPE_IPV4
                || Ipv4.validate(s, IP_OFF, b.length() - IP_OFF) != null
                || Ipv4.protocol(s, IP_OFF) != Ipv4.PROTO_UDP
                || Ipv4.destination(s, IP_OFF) != OUR_IP) {
            return false;
        }
        return Udp.destinationPort(s, IP_OFF + Ipv4.headerLength(s, IP_OFF)) == port;
    }
}
