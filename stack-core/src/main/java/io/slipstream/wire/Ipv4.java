package io.slipstream.wire;

import java.lang.foreign.MemorySegment;

/** The IPv4 header (RFC 791). Offsets are relative to the IP header. Options are skipped. */
public final class Ipv4 {
    private Ipv4() {}

    public static final int MIN_HEADER_LENGTH = 20;
    public static final int MAX_HEADER_LENGTH = 60;
    public static final int MAX_DATAGRAM = 65535;

    public static final int PROTO_ICMP = 1;
    public static final int PROTO_TCP = 6;
    public static final int PROTO_UDP = 17;

    public static final int FLAG_DF = 0x4000;
    public static final int FLAG_MF = 0x2000;
    private static final int OFFSET_MASK = 0x1FFF;

    private static final int VER_IHL = 0;
    private static final int TOS = 1;
    private static final int TOTAL_LENGTH = 2;
    private static final int ID = 4;
    private static final int FLAGS_FRAG = 6;
    private static final int TTL = 8;
    private static final int PROTOCOL = 9;
    private static final int CHECKSUM = 10;
    private static final int SRC = 12;
    private static final int DST = 16;

    /**
     * Checks a received header against the {@code available} bytes after the link header: null
     * if well formed (the datagram may still be shorter than {@code available}: link padding).
     */
    public static WireError validate(MemorySegment s, long off, int available) {
        if (available < MIN_HEADER_LENGTH) {
            return WireError.IP_TRUNCATED;
        }
        int verIhl = Bytes.u8(s, off + VER_IHL);
        if ((verIhl >>> 4) != 4) {
            return WireError.IP_BAD_VERSION;
        }
        int hl = (verIhl & 0xF) * 4;
        if (hl < MIN_HEADER_LENGTH) {
            return WireError.IP_BAD_HEADER_LENGTH;
        }
        int total = totalLength(s, off);
        if (total < hl || hl > available) {
            return WireError.IP_BAD_HEADER_LENGTH;
        }
        if (total > available) {
            return WireError.IP_BAD_TOTAL_LENGTH;
        }
        if (!InternetChecksum.verifies(InternetChecksum.sum(s, off, hl, 0))) {
            return WireError.IP_BAD_CHECKSUM;
        }
        // A fragment whose end would pass the 64 KiB datagram limit cannot be reassembled.
        if (isFragment(s, off) && fragmentOffset(s, off) + (total - hl) > MAX_DATAGRAM - hl) {
            return WireError.IP_BAD_FRAGMENT;
        }
        return null;
    }

    public static int headerLength(MemorySegment s, long off) {
        return (Bytes.u8(s, off + VER_IHL) & 0xF) * 4;
    }

    public static int tos(MemorySegment s, long off) {
        return Bytes.u8(s, off + TOS);
    }

    public static int totalLength(MemorySegment s, long off) {
        return Bytes.u16(s, off + TOTAL_LENGTH);
    }

    public static int identification(MemorySegment s, long off) {
        return Bytes.u16(s, off + ID);
    }

    public static boolean dontFragment(MemorySegment s, long off) {
        return (Bytes.u16(s, off + FLAGS_FRAG) & FLAG_DF) != 0;
    }

    public static boolean moreFragments(MemorySegment s, long off) {
        return (Bytes.u16(s, off + FLAGS_FRAG) & FLAG_MF) != 0;
    }

    /** Fragment offset in bytes. */
    public static int fragmentOffset(MemorySegment s, long off) {
        return (Bytes.u16(s, off + FLAGS_FRAG) & OFFSET_MASK) * 8;
    }

    public static boolean isFragment(MemorySegment s, long off) {
        return (Bytes.u16(s, off + FLAGS_FRAG) & (FLAG_MF | OFFSET_MASK)) != 0;
    }

    public static int ttl(MemorySegment s, long off) {
        return Bytes.u8(s, off + TTL);
    }

    public static int protocol(MemorySegment s, long off) {
        return Bytes.u8(s, off + PROTOCOL);
    }

    public static int checksum(MemorySegment s, long off) {
        return Bytes.u16(s, off + CHECKSUM);
    }

    public static int source(MemorySegment s, long off) {
        return Bytes.u32(s, off + SRC);
    }

    public static int destination(MemorySegment s, long off) {
        return Bytes.u32(s, off + DST);
    }

    /**
     * Writes a 20-byte header with its checksum; returns its length.
     *
     * @param flagsAndOffset DF/MF bits and the fragment offset in 8-byte units
     */
    public static int write(MemorySegment s, long off, int tos, int totalLength, int id,
                            int flagsAndOffset, int ttl, int protocol, int src, int dst) {
        Bytes.putU8(s, off + VER_IHL, 0x45);
        Bytes.putU8(s, off + TOS, tos);
        Bytes.putU16(s, off + TOTAL_LENGTH, totalLength);
        Bytes.putU16(s, off + ID, id);
        Bytes.putU16(s, off + FLAGS_FRAG, flagsAndOffset);
        Bytes.putU8(s, off + TTL, ttl);
        Bytes.putU8(s, off + PROTOCOL, protocol);
        Bytes.putU16(s, off + CHECKSUM, 0);
        Bytes.putU32(s, off + SRC, src);
        Bytes.putU32(s, off + DST, dst);
        Bytes.putU16(s, off + CHECKSUM, InternetChecksum.compute(s, off, MIN_HEADER_LENGTH));
        return MIN_HEADER_LENGTH;
    }

    /** Clears MF and the fragment offset (keeps DF), fixing the checksum incrementally. */
    public static void clearFragmentFields(MemorySegment s, long off) {
        int old = Bytes.u16(s, off + FLAGS_FRAG);
        int now = old & FLAG_DF;
        Bytes.putU16(s, off + FLAGS_FRAG, now);
        Bytes.putU16(s, off + CHECKSUM, InternetChecksum.adjust(checksum(s, off), old, now));
    }

    /** Sets the total length and fixes the checksum incrementally (RFC 1624). */
    public static void setTotalLength(MemorySegment s, long off, int totalLength) {
        int old = totalLength(s, off);
        Bytes.putU16(s, off + TOTAL_LENGTH, totalLength);
        Bytes.putU16(s, off + CHECKSUM, InternetChecksum.adjust(checksum(s, off), old, totalLength));
    }
}
