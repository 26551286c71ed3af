package io.slipstream.wire;

import java.lang.foreign.MemorySegment;

/** The UDP header (RFC 768). Offsets are relative to the UDP header. */
public final class Udp {
    private Udp() {}

    public static final int HEADER_LENGTH = 8;

    private static final int SRC_PORT = 0;
    private static final int DST_PORT = 2;
    private static final int LENGTH = 4;
    private static final int CHECKSUM = 6;

    /**
     * Checks a datagram of {@code ipPayloadLength} bytes (as the IP header says) against its
     * length field and checksum. A zero checksum means none was sent (RFC 768).
     */
    public static WireError validate(MemorySegment s, long off, int ipPayloadLength, int srcIp, int dstIp) {
        if (ipPayloadLength < HEADER_LENGTH) {
            return WireError.UDP_TRUNCATED;
        }
        int len = length(s, off);
        if (len < HEADER_LENGTH || len > ipPayloadLength) {
            return WireError.UDP_BAD_LENGTH;
        }
        if (checksum(s, off) != 0) {
            long acc = InternetChecksum.pseudoHeaderSum(srcIp, dstIp, Ipv4.PROTO_UDP, len);
            if (!InternetChecksum.verifies(InternetChecksum.sum(s, off, len, acc))) {
                return WireError.UDP_BAD_CHECKSUM;
            }
        }
        return null;
    }

    public static int sourcePort(MemorySegment s, long off) {
        return Bytes.u16(s, off + SRC_PORT);
    }

    public static int destinationPort(MemorySegment s, long off) {
        return Bytes.u16(s, off + DST_PORT);
    }

    public static int length(MemorySegment s, long off) {
        return Bytes.u16(s, off + LENGTH);
    }

    public static int checksum(MemorySegment s, long off) {
        return Bytes.u16(s, off + CHECKSUM);
    }

    /**
     * Writes the header over a payload already in place after it and computes the checksum
     * (a computed 0 is sent as 0xFFFF, RFC 768). Returns the header length.
     */
    public static int write(MemorySegment s, long off, int srcPort, int dstPort, int payloadLength,
                            int srcIp, int dstIp) {
        int len = HEADER_LENGTH + payloadLength;
        Bytes.putU16(s, off + SRC_PORT, srcPort);
        Bytes.putU16(s, off + DST_PORT, dstPort);
        Bytes.putU16(s, off + LENGTH, len);
        Bytes.putU16(s, off + CHECKSUM, 0);
        long acc = InternetChecksum.pseudoHeaderSum(srcIp, dstIp, Ipv4.PROTO_UDP, len);
        int c = InternetChecksum.finish(InternetChecksum.sum(s, off, len, acc));
        Bytes.putU16(s, off + CHECKSUM, c == 0 ? 0xFFFF : c);
        return HEADER_LENGTH;
    }
}
