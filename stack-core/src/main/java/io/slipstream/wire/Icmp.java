package io.slipstream.wire;

import java.lang.foreign.MemorySegment;

/**
 * ICMPv4 (RFC 792, RFC 1191 for fragmentation needed). Offsets are relative to the ICMP
 * header. The checksum covers the whole ICMP message.
 */
public final class Icmp {
    private Icmp() {}

    public static final int HEADER_LENGTH = 8;

    public static final int TYPE_ECHO_REPLY = 0;
    public static final int TYPE_DEST_UNREACHABLE = 3;
    public static final int TYPE_ECHO_REQUEST = 8;
    public static final int TYPE_TIME_EXCEEDED = 11;

    public static final int CODE_NET_UNREACHABLE = 0;
    public static final int CODE_HOST_UNREACHABLE = 1;
    public static final int CODE_PROTOCOL_UNREACHABLE = 2;
    public static final int CODE_PORT_UNREACHABLE = 3;
    public static final int CODE_FRAGMENTATION_NEEDED = 4;
    public static final int CODE_TTL_EXCEEDED = 0;
    public static final int CODE_REASSEMBLY_TIME_EXCEEDED = 1;

    /** Bytes of the offending datagram quoted in an error: its IP header plus 8 (RFC 792). */
    public static final int QUOTE_PAYLOAD = 8;

    private static final int TYPE = 0;
    private static final int CODE = 1;
    private static final int CHECKSUM = 2;
    private static final int ID = 4;
    private static final int SEQ = 6;
    private static final int NEXT_HOP_MTU = 6;

    public static WireError validate(MemorySegment s, long off, int length) {
        if (length < HEADER_LENGTH) {
            return WireError.ICMP_TRUNCATED;
        }
        if (!InternetChecksum.verifies(InternetChecksum.sum(s, off, length, 0))) {
            return WireError.ICMP_BAD_CHECKSUM;
        }
        return null;
    }

    public static int type(MemorySegment s, long off) {
        return Bytes.u8(s, off + TYPE);
    }

    public static int code(MemorySegment s, long off) {
        return Bytes.u8(s, off + CODE);
    }

    public static int echoId(MemorySegment s, long off) {
        return Bytes.u16(s, off + ID);
    }

    public static int echoSequence(MemorySegment s, long off) {
        return Bytes.u16(s, off + SEQ);
    }

    /** The next-hop MTU of a fragmentation-needed message (RFC 1191 §4). */
    public static int nextHopMtu(MemorySegment s, long off) {
        return Bytes.u16(s, off + NEXT_HOP_MTU);
    }

    /** Writes type, code and the 4-byte rest-of-header; the checksum is left to {@link #finish}. */
    public static void writeHeader(MemorySegment s, long off, int type, int code, int restOfHeader) {
        Bytes.putU8(s, off + TYPE, type);
        Bytes.putU8(s, off + CODE, code);
        Bytes.putU16(s, off + CHECKSUM, 0);
        Bytes.putU32(s, off + ID, restOfHeader);
    }

    /** Computes the checksum over the {@code length}-byte message in place. */
    public static void finish(MemorySegment s, long off, int length) {
        Bytes.putU16(s, off + CHECKSUM, 0);
        Bytes.putU16(s, off + CHECKSUM, InternetChecksum.compute(s, off, length));
    }

    /** Turns an echo request into a reply in place, fixing the checksum incrementally. */
    public static void requestToReply(MemorySegment s, long off) {
        int oldWord = Bytes.u16(s, off + TYPE);
        Bytes.putU8(s, off + TYPE, TYPE_ECHO_REPLY);
        int newWord = Bytes.u16(s, off + TYPE);
        int checksum = InternetChecksum.adjust(Bytes.u16(s, off + CHECKSUM), oldWord, newWord);
        // RFC 1624 §3 eqn. 3 gives 0x0000 where a recompute gives 0xFFFF when the reply is all
        // zeros (id 0, sequence 0, no data), and 0x0000 does not verify then. 0xFFFF is the
        // other one's-complement zero and verifies whenever 0x0000 would, so send that.
        Bytes.putU16(s, off + CHECKSUM, checksum == 0 ? 0xFFFF : checksum);
    }
}
