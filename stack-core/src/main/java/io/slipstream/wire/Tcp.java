package io.slipstream.wire;

import java.lang.foreign.MemorySegment;

/** The TCP header (RFC 9293 §3.1). Offsets are relative to the TCP header. */
public final class Tcp {
    private Tcp() {}

    public static final int MIN_HEADER_LENGTH = 20;
    public static final int MAX_HEADER_LENGTH = 60;

    public static final int FIN = 0x01;
    public static final int SYN = 0x02;
    public static final int RST = 0x04;
    public static final int PSH = 0x08;
    public static final int ACK = 0x10;
    public static final int URG = 0x20;
    public static final int ECE = 0x40;
    public static final int CWR = 0x80;

    private static final int SRC_PORT = 0;
    private static final int DST_PORT = 2;
    private static final int SEQ = 4;
    private static final int ACK_NUM = 8;
    private static final int DATA_OFFSET = 12;
    private static final int FLAGS = 13;
    private static final int WINDOW = 14;
    private static final int CHECKSUM = 16;
    private static final int URGENT = 18;

    /**
     * Checks a segment of {@code length} bytes (the IP payload): header length in range and
     * inside the segment, checksum over the pseudo-header correct, options well formed.
     */
    public static WireError validate(MemorySegment s, long off, int length, int srcIp, int dstIp) {
        if (length < MIN_HEADER_LENGTH) {
            return WireError.TCP_TRUNCATED;
        }
        int hl = headerLength(s, off);
        if (hl < MIN_HEADER_LENGTH || hl > length) {
            return WireError.TCP_BAD_HEADER_LENGTH;
        }
        long acc = InternetChecksum.pseudoHeaderSum(srcIp, dstIp, Ipv4.PROTO_TCP, length);
        if (!InternetChecksum.verifies(InternetChecksum.sum(s, off, length, acc))) {
            return WireError.TCP_BAD_CHECKSUM;
        }
        if (!TcpOptions.wellFormed(s, off + MIN_HEADER_LENGTH, hl - MIN_HEADER_LENGTH)) {
            return WireError.TCP_BAD_OPTIONS;
        }
        return null;
    }

    public static int sourcePort(MemorySegment s, long off) {
        return Bytes.u16(s, off + SRC_PORT);
    }

    public static int destinationPort(MemorySegment s, long off) {
        return Bytes.u16(s, off + DST_PORT);
    }

    public static int sequence(MemorySegment s, long off) {
        return Bytes.u32(s, off + SEQ);
    }

    public static int acknowledgment(MemorySegment s, long off) {
        return Bytes.u32(s, off + ACK_NUM);
    }

    /** Header length in bytes (data offset × 4). */
    public static int headerLength(MemorySegment s, long off) {
        return (Bytes.u8(s, off + DATA_OFFSET) >>> 4) * 4;
    }

    public static int flags(MemorySegment s, long off) {
        return Bytes.u8(s, off + FLAGS);
    }

    public static int window(MemorySegment s, long off) {
        return Bytes.u16(s, off + WINDOW);
    }

    public static int checksum(MemorySegment s, long off) {
        return Bytes.u16(s, off + CHECKSUM);
    }

    public static int urgentPointer(MemorySegment s, long off) {
        return Bytes.u16(s, off + URGENT);
    }

    /**
     * Writes the fixed header for a segment whose options ({@code headerLength - 20} bytes)
     * are already, or will be, written after it; no checksum yet.
     */
    public static void writeHeader(MemorySegment s, long off, int srcPort, int dstPort, int seq, int ack,
                                   int headerLength, int flags, int window, int urgent) {
        if (headerLength < MIN_HEADER_LENGTH || headerLength > MAX_HEADER_LENGTH || (headerLength & 3) != 0) {
            throw new IllegalArgumentException("TCP header length must be 20..60 and a multiple of 4: " + headerLength);
        }
        Bytes.putU16(s, off + SRC_PORT, srcPort);
        Bytes.putU16(s, off + DST_PORT, dstPort);
        Bytes.putU32(s, off + SEQ, seq);
        Bytes.putU32(s, off + ACK_NUM, ack);
        Bytes.putU8(s, off + DATA_OFFSET, (headerLength / 4) << 4);
        Bytes.putU8(s, off + FLAGS, flags);
        Bytes.putU16(s, off + WINDOW, window);
        Bytes.putU16(s, off + CHECKSUM, 0);
        Bytes.putU16(s, off + URGENT, urgent);
    }

    /** Computes and stores the checksum over the pseudo-header and {@code length} segment bytes. */
    public static void writeChecksum(MemorySegment s, long off, int length, int srcIp, int dstIp) {
        Bytes.putU16(s, off + CHECKSUM, 0);
        long acc = InternetChecksum.pseudoHeaderSum(srcIp, dstIp, Ipv4.PROTO_TCP, length);
        Bytes.putU16(s, off + CHECKSUM, InternetChecksum.finish(InternetChecksum.sum(s, off, length, acc)));
    }

    /** Human-readable flags, for logs and test messages (allocates). */
    public static String flagString(int flags) {
        StringBuilder b = new StringBuilder();
        String[] names = {"FIN", "SYN", "RST", "PSH", "ACK", "URG", "ECE", "CWR"};
        for (int i = 0; i < names.length; i++) {
            if ((flags & (1 << i)) != 0) {
                b.append(b.isEmpty() ? "" : "|").append(names[i]);
            }
        }
        return b.isEmpty() ? "-" : b.toString();
    }
}
