package io.slipstream.wire;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.HexFormat;

/** Helpers shared by the wire codec tests: segments, hand-built headers, a reference checksum. */
final class Frames {
    private Frames() {}

    /**
     * The folded one's-complement sum of {@code len} bytes, the plain way RFC 1071 §4.1 describes
     * it: 16-bit big-endian words, an odd last byte padded with zero, end-around carry on every
     * add. Deliberately unlike {@link InternetChecksum#sum} so that each checks the other.
     */
    static int referenceSum(byte[] b, int off, int len) {
        int sum = 0;
        for (int i = 0; i < len; i += 2) {
            int hi = b[off + i] & 0xFF;
            int lo = i + 1 < len ? b[off + i + 1] & 0xFF : 0;
            sum += (hi << 8) | lo;
            if (sum > 0xFFFF) {
                sum -= 0xFFFF;
            }
        }
        return sum;
    }

    /** A native segment of exactly {@code bytes.length} bytes, so any read past the end throws. */
    static MemorySegment copyOf(Arena arena, byte[] bytes) {
        MemorySegment s = arena.allocate(bytes.length);
        MemorySegment.copy(bytes, 0, s, ValueLayout.JAVA_BYTE, 0, bytes.length);
        return s;
    }

    static byte[] bytes(MemorySegment s, long off, int len) {
        byte[] out = new byte[len];
        MemorySegment.copy(s, ValueLayout.JAVA_BYTE, off, out, 0, len);
        return out;
    }

    static String hex(MemorySegment s, long off, int len) {
        return HexFormat.of().formatHex(bytes(s, off, len));
    }

    /**
     * Writes an 802.1Q-tagged Ethernet header (IEEE 802.1Q §9.6: TPID 0x8100, then PCP, DEI and
     * the 12-bit VLAN id, then the inner EtherType); the codecs only write untagged headers.
     */
    static int writeTaggedHeader(MemorySegment s, long off, long dst, long src, int priority, boolean dei,
                                 int vlanId, int innerType) {
        Ethernet.write(s, off, dst, src, Ethernet.TYPE_VLAN);
        Bytes.putU16(s, off + Ethernet.HEADER_LENGTH, (priority << 13) | (dei ? 0x1000 : 0) | vlanId);
        Bytes.putU16(s, off + Ethernet.HEADER_LENGTH + 2, innerType);
        return Ethernet.HEADER_LENGTH + Ethernet.VLAN_TAG_LENGTH;
    }

    /** Writes an Ethernet header, tagged when {@code vlanId >= 0}; returns its length. */
    static int writeLinkHeader(MemorySegment s, long off, long dst, long src, int vlanId, int type) {
        return vlanId < 0
                ? Ethernet.write(s, off, dst, src, type)
                : writeTaggedHeader(s, off, dst, src, 0, false, vlanId, type);
    }

    /** Recomputes the IPv4 header checksum in place, after a test has changed the header. */
    static void refreshIpChecksum(MemorySegment s, long ipOff) {
        int hl = Ipv4.headerLength(s, ipOff);
        Bytes.putU16(s, ipOff + 10, 0);
        Bytes.putU16(s, ipOff + 10, InternetChecksum.compute(s, ipOff, hl));
    }
}
