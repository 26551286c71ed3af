package io.slipstream.wire;

import java.lang.foreign.MemorySegment;

/**
 * Ethernet II framing, with an optional 802.1Q tag. Offsets are relative to the frame start.
 * The FCS is not part of the frames drivers hand over.
 */
public final class Ethernet {
    private Ethernet() {}

    public static final int HEADER_LENGTH = 14;
    public static final int VLAN_TAG_LENGTH = 4;
    /** Smallest frame on the wire without FCS; shorter frames are padded on send. */
    public static final int MIN_FRAME_LENGTH = 60;

    public static final int TYPE_IPV4 = 0x0800;
    public static final int TYPE_ARP = 0x0806;
    public static final int TYPE_VLAN = 0x8100;
    public static final int TYPE_IPV6 = 0x86DD;

    private static final int DST = 0;
    private static final int SRC = 6;
    private static final int TYPE = 12;

    public static long destination(MemorySegment s, long off) {
        return Bytes.u48(s, off + DST);
    }

    public static long source(MemorySegment s, long off) {
        return Bytes.u48(s, off + SRC);
    }

    /** The outer EtherType (0x8100 for a tagged frame). */
    public static int outerType(MemorySegment s, long off) {
        return Bytes.u16(s, off + TYPE);
    }

    public static boolean isTagged(MemorySegment s, long off) {
        return outerType(s, off) == TYPE_VLAN;
    }

    /**
     * Header length: 14, or 18 with an 802.1Q tag; -1 if the frame is too short for it.
     * Only one tag is understood; a double-tagged frame reads as its inner tag's type.
     */
    public static int headerLength(MemorySegment s, long off, int frameLength) {
        if (frameLength < HEADER_LENGTH) {
            return -1;
        }
        if (isTagged(s, off)) {
            return frameLength < HEADER_LENGTH + VLAN_TAG_LENGTH ? -1 : HEADER_LENGTH + VLAN_TAG_LENGTH;
        }
        return HEADER_LENGTH;
    }

    /** The EtherType of the payload, looking past an 802.1Q tag. Requires a valid header length. */
    public static int payloadType(MemorySegment s, long off) {
        return isTagged(s, off) ? Bytes.u16(s, off + TYPE + VLAN_TAG_LENGTH) : outerType(s, off);
    }

    /** The 12-bit VLAN id of a tagged frame. */
    public static int vlanId(MemorySegment s, long off) {
        return Bytes.u16(s, off + TYPE + 2) & 0x0FFF;
    }

    /** Writes an untagged header; returns its length. */
    public static int write(MemorySegment s, long off, long dst, long src, int etherType) {
        Bytes.putU48(s, off + DST, dst);
        Bytes.putU48(s, off + SRC, src);
        Bytes.putU16(s, off + TYPE, etherType);
        return HEADER_LENGTH;
    }

    public static void setDestination(MemorySegment s, long off, long dst) {
        Bytes.putU48(s, off + DST, dst);
    }
}
