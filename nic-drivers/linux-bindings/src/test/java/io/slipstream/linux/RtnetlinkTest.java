package io.slipstream.linux;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.Size;
import org.junit.jupiter.api.Test;

/** The rtnetlink codec on bytes built here: layouts, and that bad bytes are counted, never thrown. */
class RtnetlinkTest {
    private static final int IP_198_18_9_1 = 0xC6120901;
    private static final int IP_198_18_9_2 = 0xC6120902;

    /** Builds netlink messages in the host's byte order, as the kernel sends them. */
    private static final class Msg {
        private final ByteBuffer b = ByteBuffer.allocate(4096).order(ByteOrder.nativeOrder());

        Msg(int type, int flags, int seq) {
            b.putInt(0).putShort((short) type).putShort((short) flags).putInt(seq).putInt(0);
        }

        Msg bytes(int... values) {
            for (int v : values) {
                b.put((byte) v);
            }
            return this;
        }

        Msg u16(int v) {
            b.putShort((short) v);
            return this;
        }

        Msg u32(int v) {
            b.putInt(v);
            return this;
        }

        Msg attr(int type, byte[] payload) {
            b.putShort((short) (4 + payload.length)).putShort((short) type).put(payload);
            while (b.position() % 4 != 0) {
                b.put((byte) 0);
            }
            return this;
        }

        Msg attrU32(int type, int v) {
            return attr(type, ByteBuffer.allocate(4).order(ByteOrder.nativeOrder()).putInt(v).array());
        }

        Msg attrIp(int type, int ip) {
            return attr(type, ByteBuffer.allocate(4).order(ByteOrder.BIG_ENDIAN).putInt(ip).array());
        }

        byte[] build() {
            int len = b.position();
            b.putInt(0, len);
            byte[] out = new byte[len];
            b.get(0, out);
            return out;
        }
    }

    private static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }

    private static List<Rtnetlink.Message> decode(byte[] bytes) {
        List<Rtnetlink.Message> out = new ArrayList<>();
        Rtnetlink.decode(MemorySegment.ofArray(bytes), 0, bytes.length, out::add);
        return out;
    }

    private static byte[] link(int index, String name, int mtu) {
        return new Msg(Rtnetlink.RTM_NEWLINK, Rtnetlink.NLM_F_MULTI, 7)
                .bytes(0, 0).u16(1).u32(index).u32(Rtnetlink.IFF_UP | Rtnetlink.IFF_LOWER_UP).u32(0)
                .attr(Rtnetlink.IFLA_IFNAME, (name + "\0").getBytes(StandardCharsets.US_ASCII))
                .attrU32(Rtnetlink.IFLA_MTU, mtu)
                .attr(Rtnetlink.IFLA_ADDRESS, new byte[] {2, 0x53, 0, 0, 9, 1})
                .build();
    }

    private static byte[] neighbour(int type, int ip, int state) {
        return new Msg(type, 0, 0)
                .bytes(Rtnetlink.AF_INET, 0).u16(0).u32(3).u16(state).bytes(Rtnetlink.NTF_USE, 0)
                .attrIp(Rtnetlink.NDA_DST, ip)
                .attr(Rtnetlink.NDA_LLADDR, new byte[] {2, 0x53, 0, 0, 9, 2})
                .build();
    }

    @Test
    void dumpRequestIsAHeaderAndAFamilyHeader() {
        MemorySegment s = MemorySegment.ofArray(new byte[64]);
        int len = Rtnetlink.dumpRequest(s, 0, Rtnetlink.RTM_GETROUTE, 42);
        assertEquals(Rtnetlink.NLMSG_HDRLEN + Rtnetlink.RTMSG_LEN, len);
        assertEquals(len, s.get(ValueLayout.JAVA_INT_UNALIGNED, 0));
        assertEquals(Rtnetlink.RTM_GETROUTE, s.get(ValueLayout.JAVA_SHORT_UNALIGNED, 4));
        assertEquals(Rtnetlink.NLM_F_REQUEST | Rtnetlink.NLM_F_DUMP, s.get(ValueLayout.JAVA_SHORT_UNALIGNED, 6));
        assertEquals(42, s.get(ValueLayout.JAVA_INT_UNALIGNED, 8));
        assertEquals(Rtnetlink.AF_INET, s.get(ValueLayout.JAVA_BYTE, 16));
    }

    @Test
    void resolveRequestIsNewNeighbourWithUseAndTheDestinationInNetworkOrder() {
        MemorySegment s = MemorySegment.ofArray(new byte[Rtnetlink.MAX_REQUEST]);
        int len = Rtnetlink.resolveRequest(s, 0, 9, 3, IP_198_18_9_2);
        assertEquals(Rtnetlink.MAX_REQUEST, len);
        assertEquals(Rtnetlink.RTM_NEWNEIGH, s.get(ValueLayout.JAVA_SHORT_UNALIGNED, 4));
        assertEquals(Rtnetlink.NLM_F_REQUEST | Rtnetlink.NLM_F_CREATE, s.get(ValueLayout.JAVA_SHORT_UNALIGNED, 6));
        assertEquals(Rtnetlink.AF_INET, s.get(ValueLayout.JAVA_BYTE, 16));
        assertEquals(3, s.get(ValueLayout.JAVA_INT_UNALIGNED, 20));
        assertEquals(Rtnetlink.NTF_USE, s.get(ValueLayout.JAVA_BYTE, 26));
        assertEquals(8, s.get(ValueLayout.JAVA_SHORT_UNALIGNED, 28));
        assertEquals(Rtnetlink.NDA_DST, s.get(ValueLayout.JAVA_SHORT_UNALIGNED, 30));
        assertEquals((byte) 198, s.get(ValueLayout.JAVA_BYTE, 32));
        assertEquals((byte) 2, s.get(ValueLayout.JAVA_BYTE, 35));
    }

    @Test
    void decodesEachKindOfMessageInOneDatagram() {
        byte[] addr = new Msg(Rtnetlink.RTM_NEWADDR, 0, 0)
                .bytes(Rtnetlink.AF_INET, 24, 0, 0).u32(3)
                .attrIp(Rtnetlink.IFA_ADDRESS, IP_198_18_9_1).attrIp(Rtnetlink.IFA_LOCAL, IP_198_18_9_1).build();
        byte[] route = new Msg(Rtnetlink.RTM_NEWROUTE, 0, 0)
                .bytes(Rtnetlink.AF_INET, 0, 0, 0, Rtnetlink.RT_TABLE_MAIN, 3, 0, Rtnetlink.RTN_UNICAST).u32(0)
                .attrU32(Rtnetlink.RTA_TABLE, Rtnetlink.RT_TABLE_MAIN).attrU32(Rtnetlink.RTA_PRIORITY, 100)
                .attrIp(Rtnetlink.RTA_GATEWAY, IP_198_18_9_2).attrU32(Rtnetlink.RTA_OIF, 3).build();
        byte[] done = new Msg(Rtnetlink.NLMSG_DONE, Rtnetlink.NLM_F_MULTI | Rtnetlink.NLM_F_DUMP_INTR, 7).u32(0).build();
        byte[] error = new Msg(Rtnetlink.NLMSG_ERROR, 0, 8).u32(-Errno.ENODEV)
                .u32(36).u16(Rtnetlink.RTM_NEWNEIGH).u16(5).u32(8).u32(0).build();

        List<Rtnetlink.Message> m = decode(concat(link(3, "v0", 1400), addr, route,
                neighbour(Rtnetlink.RTM_NEWNEIGH, IP_198_18_9_2, Rtnetlink.NUD_REACHABLE), done, error));

        assertEquals(new Rtnetlink.Link(false, 7, 3, Rtnetlink.IFF_UP | Rtnetlink.IFF_LOWER_UP, "v0", 1400,
                0x02_53_00_00_09_01L), m.get(0));
        assertEquals(new Rtnetlink.Address(false, 0, 3, 24, 0, IP_198_18_9_1, IP_198_18_9_1), m.get(1));
        assertEquals(new Rtnetlink.Route(false, 0, Rtnetlink.RT_TABLE_MAIN, Rtnetlink.RTN_UNICAST, 0, 3, 0, 0, 0,
                IP_198_18_9_2, 3, 100, 0, false), m.get(2));
        assertEquals(new Rtnetlink.Neighbour(false, 0, 3, Rtnetlink.NUD_REACHABLE, 1, IP_198_18_9_2,
                0x02_53_00_00_09_02L), m.get(3));
        assertEquals(new Rtnetlink.Done(7, true), m.get(4));
        assertEquals(new Rtnetlink.Error(8, Errno.ENODEV, Rtnetlink.RTM_NEWNEIGH), m.get(5));
        assertEquals(6, m.size());
    }

    @Test
    void otherFamiliesAndTypesAreIgnored() {
        byte[] v6neigh = new Msg(Rtnetlink.RTM_NEWNEIGH, 0, 0).bytes(10, 0).u16(0).u32(3).u16(2).bytes(0, 0)
                .attr(Rtnetlink.NDA_DST, new byte[16]).build();
        byte[] rule = new Msg(32, 0, 0).u32(0).build();
        List<Rtnetlink.Message> m = decode(concat(v6neigh, rule));
        assertEquals(List.of(new Rtnetlink.Ignored(Rtnetlink.RTM_NEWNEIGH, 0), new Rtnetlink.Ignored(32, 0)), m);
    }

    @Test
    void aBadAttributeSkipsItsMessageOnly() {
        byte[] bad = neighbour(Rtnetlink.RTM_NEWNEIGH, IP_198_18_9_1, Rtnetlink.NUD_STALE);
        bad[Rtnetlink.NLMSG_HDRLEN + Rtnetlink.NDMSG_LEN] = (byte) 200; // NDA_DST's rta_len beyond the message
        byte[] good = neighbour(Rtnetlink.RTM_DELNEIGH, IP_198_18_9_2, 0);
        List<Rtnetlink.Message> m = decode(concat(bad, good));
        assertEquals(2, m.size());
        assertInstanceOf(Rtnetlink.Malformed.class, m.get(0));
        assertEquals(IP_198_18_9_2, assertInstanceOf(Rtnetlink.Neighbour.class, m.get(1)).address());
        assertTrue(((Rtnetlink.Neighbour) m.get(1)).deleted());
    }

    @Test
    void anAddressOfTheWrongSizeIsMalformed() {
        byte[] m = new Msg(Rtnetlink.RTM_NEWADDR, 0, 0).bytes(Rtnetlink.AF_INET, 24, 0, 0).u32(3)
                .attr(Rtnetlink.IFA_LOCAL, new byte[] {1, 2, 3}).build();
        assertInstanceOf(Rtnetlink.Malformed.class, decode(m).get(0));
    }

    @Test
    void everyTruncationIsReportedNeverThrown() {
        byte[] whole = concat(link(3, "v0", 1500), neighbour(Rtnetlink.RTM_NEWNEIGH, IP_198_18_9_2, 2));
        int firstEnd = link(3, "v0", 1500).length;
        for (int cut = 1; cut < whole.length; cut++) {
            byte[] part = java.util.Arrays.copyOf(whole, cut);
            List<Rtnetlink.Message> m = decode(part);
            if (cut == firstEnd) {
                assertEquals(1, m.size());
                assertInstanceOf(Rtnetlink.Link.class, m.get(0));
            } else {
                assertInstanceOf(Rtnetlink.Malformed.class, m.get(m.size() - 1), "cut at " + cut);
            }
        }
    }

    @Test
    void aLengthShorterThanTheHeaderEndsTheDatagram() {
        byte[] b = link(3, "v0", 1500);
        ByteBuffer.wrap(b).order(ByteOrder.nativeOrder()).putInt(0, 4);
        List<Rtnetlink.Message> m = decode(b);
        assertEquals(1, m.size());
        assertInstanceOf(Rtnetlink.Malformed.class, m.get(0));
    }

    @Property(tries = 2000)
    void garbageNeverThrows(@ForAll @Size(max = 300) byte[] bytes) {
        decode(bytes); // whatever it makes of them, it returns
    }

    @Property(tries = 1000)
    void aCorruptedByteNeverThrows(@ForAll @Size(min = 1, max = 1) List<Integer> position, @ForAll byte value) {
        byte[] b = concat(link(3, "v0", 1500), neighbour(Rtnetlink.RTM_NEWNEIGH, IP_198_18_9_2, 2));
        b[Math.floorMod(position.get(0), b.length)] = value;
        decode(b);
    }
}
