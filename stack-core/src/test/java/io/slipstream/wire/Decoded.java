package io.slipstream.wire;

/**
 * What a decoder saw in one Ethernet frame, layer by layer; a layer is null when the frame
 * does not carry it or it could not be read. Both {@link FrameDecoder} (our codecs) and
 * {@link Pcap4jDecoder} (an independent implementation) produce these, so a cross-check is
 * an {@code equals} per layer. Payloads are hex strings so that records compare by content.
 *
 * @param error the first error our codecs reported along the receive path (Pcap4J: null)
 */
record Decoded(EthView eth, ArpView arp, IpView ip, UdpView udp, IcmpView icmp, WireError error) {

    /** @param vlanId the 802.1Q VLAN id, or -1 for an untagged frame */
    record EthView(long destination, long source, int headerLength, int payloadType, int vlanId) {}

    record ArpView(int operation, long senderMac, int senderIp, long targetMac, int targetIp) {}

    /** @param fragmentOffset in bytes */
    record IpView(int headerLength, int tos, int totalLength, int identification, boolean dontFragment,
                  boolean moreFragments, int fragmentOffset, int ttl, int protocol, int checksum,
                  int source, int destination, boolean checksumValid) {}

    /** @param checksumValid true also for a zero checksum (none sent, RFC 768) */
    record UdpView(int sourcePort, int destinationPort, int length, int checksum, boolean checksumValid,
                   String payloadHex) {}

    /** @param bodyHex everything after the checksum field: rest of header and data */
    record IcmpView(int type, int code, int checksum, boolean checksumValid, String bodyHex) {}
}
