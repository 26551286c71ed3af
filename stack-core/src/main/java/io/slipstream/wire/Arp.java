package io.slipstream.wire;

import java.lang.foreign.MemorySegment;

/** ARP for IPv4 over Ethernet (RFC 826). Offsets are relative to the ARP header. */
public final class Arp {
    private Arp() {}

    public static final int LENGTH = 28;
    public static final int OP_REQUEST = 1;
    public static final int OP_REPLY = 2;

    private static final int HTYPE = 0;
    private static final int PTYPE = 2;
    private static final int HLEN = 4;
    private static final int PLEN = 5;
    private static final int OPER = 6;
    private static final int SHA = 8;
    private static final int SPA = 14;
    private static final int THA = 18;
    private static final int TPA = 24;

    /** Null if this is an Ethernet/IPv4 ARP packet we can read, else why not. */
    public static WireError validate(MemorySegment s, long off, int length) {
        if (length < LENGTH) {
            return WireError.ARP_TRUNCATED;
        }
        if (Bytes.u16(s, off + HTYPE) != 1 || Bytes.u16(s, off + PTYPE) != Ethernet.TYPE_IPV4
                || Bytes.u8(s, off + HLEN) != 6 || Bytes.u8(s, off + PLEN) != 4) {
            return WireError.ARP_UNSUPPORTED_FORMAT;
        }
        return null;
    }

    public static int operation(MemorySegment s, long off) {
        return Bytes.u16(s, off + OPER);
    }

    public static long senderMac(MemorySegment s, long off) {
        return Bytes.u48(s, off + SHA);
    }

    public static int senderIp(MemorySegment s, long off) {
        return Bytes.u32(s, off + SPA);
    }

    public static long targetMac(MemorySegment s, long off) {
        return Bytes.u48(s, off + THA);
    }

    public static int targetIp(MemorySegment s, long off) {
        return Bytes.u32(s, off + TPA);
    }

    /** Writes a complete Ethernet/IPv4 ARP packet; returns {@link #LENGTH}. */
    public static int write(MemorySegment s, long off, int operation,
                            long senderMac, int senderIp, long targetMac, int targetIp) {
        Bytes.putU16(s, off + HTYPE, 1);
        Bytes.putU16(s, off + PTYPE, Ethernet.TYPE_IPV4);
        Bytes.putU8(s, off + HLEN, 6);
        Bytes.putU8(s, off + PLEN, 4);
        Bytes.putU16(s, off + OPER, operation);
        Bytes.putU48(s, off + SHA, senderMac);
        Bytes.putU32(s, off + SPA, senderIp);
        Bytes.putU48(s, off + THA, targetMac);
        Bytes.putU32(s, off + TPA, targetIp);
        return LENGTH;
    }
}
