package io.slipstream.wire;

import java.net.InetAddress;
import java.util.HexFormat;
import org.pcap4j.packet.ArpPacket;
import org.pcap4j.packet.Dot1qVlanTagPacket;
import org.pcap4j.packet.EthernetPacket;
import org.pcap4j.packet.IcmpV4CommonPacket;
import org.pcap4j.packet.IllegalRawDataException;
import org.pcap4j.packet.IpV4Packet;
import org.pcap4j.packet.Packet;
import org.pcap4j.packet.UdpPacket;
import org.pcap4j.util.MacAddress;

/**
 * Decodes a frame with Pcap4J, an independent implementation, into the same {@link Decoded}
 * views as {@link FrameDecoder}. Only Pcap4J's packet classes are used (no libpcap).
 */
final class Pcap4jDecoder {
    private Pcap4jDecoder() {}

    static EthernetPacket parse(byte[] frame) {
        try {
            return EthernetPacket.newPacket(frame, 0, frame.length);
        } catch (IllegalRawDataException e) {
            throw new AssertionError("Pcap4J rejects the frame " + HexFormat.of().formatHex(frame), e);
        }
    }

    static Decoded decode(byte[] frame) {
        EthernetPacket ether = parse(frame);
        EthernetPacket.EthernetHeader h = ether.getHeader();
        Packet payload = ether.getPayload();
        int headerLength = Ethernet.HEADER_LENGTH;
        int payloadType = h.getType().value() & 0xFFFF;
        int vlanId = -1;
        if (payload instanceof Dot1qVlanTagPacket tagged) {
            headerLength += Ethernet.VLAN_TAG_LENGTH;
            payloadType = tagged.getHeader().getType().value() & 0xFFFF;
            vlanId = tagged.getHeader().getVidAsInt();
            payload = tagged.getPayload();
        }
        var eth = new Decoded.EthView(mac(h.getDstAddr()), mac(h.getSrcAddr()), headerLength, payloadType, vlanId);
        Decoded.ArpView arp = payload instanceof ArpPacket a ? arp(a.getHeader()) : null;
        if (!(payload instanceof IpV4Packet ipPacket)) {
            return new Decoded(eth, arp, null, null, null, null);
        }
        IpV4Packet.IpV4Header ih = ipPacket.getHeader();
        var ip = new Decoded.IpView(ih.getIhlAsInt() * 4, ih.getTos().value() & 0xFF, ih.getTotalLengthAsInt(),
                ih.getIdentificationAsInt(), ih.getDontFragmentFlag(), ih.getMoreFragmentFlag(),
                (ih.getFragmentOffset() & 0x1FFF) * 8, ih.getTtlAsInt(), ih.getProtocol().value() & 0xFF,
                ih.getHeaderChecksum() & 0xFFFF, Ipv4Address.of(ih.getSrcAddr()), Ipv4Address.of(ih.getDstAddr()),
                ih.hasValidChecksum(false));
        Packet l4 = ipPacket.getPayload();
        Decoded.UdpView udp = null;
        Decoded.IcmpView icmp = null;
        if (l4 instanceof UdpPacket u) {
            UdpPacket.UdpHeader uh = u.getHeader();
            udp = new Decoded.UdpView(uh.getSrcPort().valueAsInt(), uh.getDstPort().valueAsInt(), uh.getLengthAsInt(),
                    uh.getChecksum() & 0xFFFF, u.hasValidChecksum(ih.getSrcAddr(), ih.getDstAddr(), true),
                    hexOf(u.getPayload()));
        } else if (l4 instanceof IcmpV4CommonPacket c) {
            byte[] raw = c.getRawData();
            icmp = new Decoded.IcmpView(c.getHeader().getType().value() & 0xFF, c.getHeader().getCode().value() & 0xFF,
                    c.getHeader().getChecksum() & 0xFFFF, c.hasValidChecksum(false),
                    HexFormat.of().formatHex(raw, 4, raw.length));
        }
        return new Decoded(eth, arp, ip, udp, icmp, null);
    }

    private static Decoded.ArpView arp(ArpPacket.ArpHeader a) {
        return new Decoded.ArpView(a.getOperation().value() & 0xFFFF, mac(a.getSrcHardwareAddr()),
                ip(a.getSrcProtocolAddr()), mac(a.getDstHardwareAddr()), ip(a.getDstProtocolAddr()));
    }

    static long mac(MacAddress m) {
        long v = 0;
        for (byte b : m.getAddress()) {
            v = (v << 8) | (b & 0xFF);
        }
        return v;
    }

    static MacAddress mac(long v) {
        byte[] b = new byte[6];
        for (int i = 0; i < 6; i++) {
            b[i] = (byte) (v >>> (40 - 8 * i));
        }
        return MacAddress.getByAddress(b);
    }

    private static int ip(InetAddress a) {
        return Ipv4Address.of(a);
    }

    private static String hexOf(Packet p) {
        return p == null ? "" : HexFormat.of().formatHex(p.getRawData());
    }
}
