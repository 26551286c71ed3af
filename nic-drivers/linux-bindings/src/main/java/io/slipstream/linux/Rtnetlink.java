package io.slipstream.linux;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.function.Consumer;

/**
 * The rtnetlink messages the control plane exchanges with the kernel (rtnetlink(7)): dump
 * requests and a neighbour-resolution request out; links, IPv4 addresses, IPv4 routes and
 * IPv4 neighbours, dump ends and errors in. Layouts and numbers are those of the kernel's
 * UAPI headers netlink.h, rtnetlink.h, if_link.h, if_addr.h and neighbour.h.
 *
 * <p>Netlink headers and the fixed per-family headers are in the host's byte order; IPv4
 * addresses in attributes are in network order, and come out here as an int whose most
 * significant byte is the first octet (as {@code io.slipstream.wire.Ipv4Address} has them).
 * MAC addresses come out as the 48-bit value of their six bytes, first byte most significant.
 *
 * <p>{@link #decode} trusts nothing it reads: every length is checked against what arrived,
 * and a message that does not hold together is reported as {@link Malformed} and skipped,
 * never thrown.
 */
public final class Rtnetlink {
    private Rtnetlink() {}

    // ------------------------------------------------------------------ netlink.h

    public static final int NLMSG_HDRLEN = 16;
    public static final int NLMSG_NOOP = 1;
    public static final int NLMSG_ERROR = 2;
    public static final int NLMSG_DONE = 3;
    public static final int NLMSG_OVERRUN = 4;

    public static final int NLM_F_REQUEST = 0x01;
    public static final int NLM_F_MULTI = 0x02;
    public static final int NLM_F_ACK = 0x04;
    public static final int NLM_F_DUMP_INTR = 0x10;
    public static final int NLM_F_DUMP = 0x300;
    public static final int NLM_F_CREATE = 0x400;

    // ------------------------------------------------------------------ rtnetlink.h

    public static final int RTM_NEWLINK = 16;
    public static final int RTM_DELLINK = 17;
    public static final int RTM_GETLINK = 18;
    public static final int RTM_NEWADDR = 20;
    public static final int RTM_DELADDR = 21;
    public static final int RTM_GETADDR = 22;
    public static final int RTM_NEWROUTE = 24;
    public static final int RTM_DELROUTE = 25;
    public static final int RTM_GETROUTE = 26;
    public static final int RTM_NEWNEIGH = 28;
    public static final int RTM_DELNEIGH = 29;
    public static final int RTM_GETNEIGH = 30;

    public static final int AF_UNSPEC = 0;
    public static final int AF_INET = 2;

    public static final int RT_TABLE_MAIN = 254;
    public static final int RTN_UNICAST = 1;
    public static final int RT_SCOPE_UNIVERSE = 0;
    public static final int RT_SCOPE_LINK = 253;
    public static final int RT_SCOPE_HOST = 254;
    /** rtm_flags: a cached clone (the route cache of old kernels), not a table entry. */
    public static final int RTM_F_CLONED = 0x200;

    public static final int RTA_DST = 1;
    public static final int RTA_OIF = 4;
    public static final int RTA_GATEWAY = 5;
    public static final int RTA_PRIORITY = 6;
    public static final int RTA_PREFSRC = 7;
    public static final int RTA_MULTIPATH = 9;
    public static final int RTA_TABLE = 15;

    // ------------------------------------------------------------------ if_link.h, if.h

    public static final int IFLA_ADDRESS = 1;
    public static final int IFLA_IFNAME = 3;
    public static final int IFLA_MTU = 4;
    /** Nested: what XDP program the link runs (IFLA_XDP_*). */
    public static final int IFLA_XDP = 43;
    public static final int IFLA_XDP_ATTACHED = 2;
    public static final int IFLA_XDP_PROG_ID = 4;
    public static final int IFLA_XDP_SKB_PROG_ID = 6;
    public static final int IFLA_XDP_DRV_PROG_ID = 7;
    public static final int IFLA_XDP_HW_PROG_ID = 8;

    /** IFLA_XDP_ATTACHED values: how the program runs (several modes at once: MULTI). */
    public static final int XDP_ATTACHED_NONE = 0;
    public static final int XDP_ATTACHED_DRV = 1;
    public static final int XDP_ATTACHED_SKB = 2;
    public static final int XDP_ATTACHED_HW = 3;
    public static final int XDP_ATTACHED_MULTI = 4;

    public static final int IFF_UP = 0x1;
    public static final int IFF_RUNNING = 0x40;
    public static final int IFF_LOWER_UP = 0x10000;

    // ------------------------------------------------------------------ if_addr.h

    public static final int IFA_ADDRESS = 1;
    public static final int IFA_LOCAL = 2;

    // ------------------------------------------------------------------ neighbour.h

    public static final int NDA_DST = 1;
    public static final int NDA_LLADDR = 2;

    public static final int NUD_INCOMPLETE = 0x01;
    public static final int NUD_REACHABLE = 0x02;
    public static final int NUD_STALE = 0x04;
    public static final int NUD_DELAY = 0x08;
    public static final int NUD_PROBE = 0x10;
    public static final int NUD_FAILED = 0x20;
    public static final int NUD_NOARP = 0x40;
    public static final int NUD_PERMANENT = 0x80;
    /** The states whose link-layer address may be used (the kernel's NUD_VALID). */
    public static final int NUD_VALID = NUD_PERMANENT | NUD_NOARP | NUD_REACHABLE | NUD_PROBE | NUD_STALE | NUD_DELAY;

    /** ndm_flags: "use" the entry, which starts resolution when it has no valid address. */
    public static final int NTF_USE = 0x01;

    /** Fixed header sizes after the nlmsghdr. */
    public static final int IFINFOMSG_LEN = 16;
    public static final int IFADDRMSG_LEN = 8;
    public static final int RTMSG_LEN = 12;
    public static final int NDMSG_LEN = 12;
    public static final int NLMSGERR_LEN = 4 + NLMSG_HDRLEN;

    /** The longest request this class writes; a buffer of this size holds any of them. */
    public static final int MAX_REQUEST = NLMSG_HDRLEN + NDMSG_LEN + 8;

    private static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED;
    private static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED;
    private static final ValueLayout.OfInt BE32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);

    // ------------------------------------------------------------------ requests

    /**
     * Writes at {@code off} a dump request of {@code type} (RTM_GETLINK, RTM_GETADDR,
     * RTM_GETROUTE or RTM_GETNEIGH) for IPv4 (all families for links). Returns its length.
     */
    public static int dumpRequest(MemorySegment s, long off, int type, int seq) {
        int body = switch (type) {
            case RTM_GETLINK -> IFINFOMSG_LEN;
            case RTM_GETADDR -> IFADDRMSG_LEN;
            case RTM_GETROUTE -> RTMSG_LEN;
            case RTM_GETNEIGH -> NDMSG_LEN;
            default -> throw new IllegalArgumentException("not a dump type: " + type);
        };
        int len = NLMSG_HDRLEN + body;
        s.asSlice(off, len).fill((byte) 0);
        header(s, off, len, type, NLM_F_REQUEST | NLM_F_DUMP, seq);
        // The family is the first byte of each of the four headers.
        s.set(ValueLayout.JAVA_BYTE, off + NLMSG_HDRLEN, (byte) (type == RTM_GETLINK ? AF_UNSPEC : AF_INET));
        return len;
    }

    /**
     * Writes at {@code off} a request that the kernel resolve {@code ipv4} on interface
     * {@code ifindex}: RTM_NEWNEIGH with NTF_USE and NLM_F_CREATE. The kernel creates the entry
     * if it has none, then treats it as used by outgoing traffic: an entry without a valid
     * address goes to INCOMPLETE and the kernel sends ARP requests (from its own address, as it
     * would for its own traffic); a stale one is probed. The answer arrives as an RTM_NEWNEIGH
     * notification. No NLM_F_ACK: only a failure is answered (NLMSG_ERROR with this seq).
     * Returns the length.
     */
    public static int resolveRequest(MemorySegment s, long off, int seq, int ifindex, int ipv4) {
        int len = NLMSG_HDRLEN + NDMSG_LEN + 8;
        header(s, off, len, RTM_NEWNEIGH, NLM_F_REQUEST | NLM_F_CREATE, seq);
        long nd = off + NLMSG_HDRLEN;          // every byte written: the stack calls this, it must not allocate
        s.set(U32, nd, 0);                     // ndm_family, ndm_pad1, ndm_pad2
        s.set(ValueLayout.JAVA_BYTE, nd, (byte) AF_INET);
        s.set(U32, nd + 4, ifindex);
        s.set(U16, nd + 8, (short) 0);         // ndm_state: NUD_NONE, left as the kernel has it
        s.set(ValueLayout.JAVA_BYTE, nd + 10, (byte) NTF_USE);
        s.set(ValueLayout.JAVA_BYTE, nd + 11, (byte) 0);
        long rta = nd + NDMSG_LEN;
        s.set(U16, rta, (short) 8);
        s.set(U16, rta + 2, (short) NDA_DST);
        s.set(BE32, rta + 4, ipv4);
        return len;
    }

    /**
     * Writes at {@code off} a request for the one link {@code ifindex} (RTM_GETLINK without
     * NLM_F_DUMP): the kernel answers with that link's RTM_NEWLINK, or an NLMSG_ERROR
     * (ENODEV). Returns the length.
     */
    public static int linkRequest(MemorySegment s, long off, int seq, int ifindex) {
        int len = NLMSG_HDRLEN + IFINFOMSG_LEN;
        s.asSlice(off, len).fill((byte) 0);
        header(s, off, len, RTM_GETLINK, NLM_F_REQUEST, seq);
        s.set(U32, off + NLMSG_HDRLEN + 4, ifindex);
        return len;
    }

    private static void header(MemorySegment s, long off, int len, int type, int flags, int seq) {
        s.set(U32, off, len);
        s.set(U16, off + 4, (short) type);
        s.set(U16, off + 6, (short) flags);
        s.set(U32, off + 8, seq);
        s.set(U32, off + 12, 0);
    }

    // ------------------------------------------------------------------ what comes back

    /** One decoded message. {@code seq} is the request's for dump replies, 0 for notifications. */
    public sealed interface Message permits Link, Address, Route, Neighbour, Done, Error, Ignored, Malformed {}

    /**
     * RTM_NEWLINK / RTM_DELLINK.
     *
     * @param flags ifi_flags (IFF_UP, IFF_LOWER_UP, …)
     * @param name IFLA_IFNAME, or null if absent
     * @param mtu IFLA_MTU, or -1 if absent
     * @param mac IFLA_ADDRESS when it is six bytes long, else -1
     */
    public record Link(boolean deleted, int seq, int index, int flags, String name, int mtu, long mac)
            implements Message {}

    /**
     * RTM_NEWADDR / RTM_DELADDR for IPv4. {@code local} is the interface's own address
     * (IFA_LOCAL, or IFA_ADDRESS when there is no IFA_LOCAL); {@code peer} is IFA_ADDRESS (the
     * far end on a point-to-point link, else the same as local).
     */
    public record Address(boolean deleted, int seq, int index, int prefixLength, int scope, int local, int peer)
            implements Message {}

    /**
     * RTM_NEWROUTE / RTM_DELROUTE for IPv4. Absent attributes are 0 ({@code outputInterface}
     * 0: none named). {@code table} is RTA_TABLE when present, else rtm_table.
     *
     * @param multipath the route has several next hops (RTA_MULTIPATH), not described here
     */
    public record Route(boolean deleted, int seq, int table, int type, int scope, int protocol, int flags,
                        int prefixLength, int destination, int gateway, int outputInterface, int priority,
                        int preferredSource, boolean multipath) implements Message {}

    /**
     * RTM_NEWNEIGH / RTM_DELNEIGH for IPv4.
     *
     * @param state ndm_state (NUD_*)
     * @param mac NDA_LLADDR when six bytes long, else -1
     */
    public record Neighbour(boolean deleted, int seq, int index, int state, int flags, int address, long mac)
            implements Message {}

    /** NLMSG_DONE: the end of a dump; {@code interrupted} if the tables changed while it ran (redo it). */
    public record Done(int seq, boolean interrupted) implements Message {}

    /**
     * NLMSG_ERROR: {@code errno} 0 is an acknowledgement, otherwise the positive errno the
     * request with {@code seq} and {@code type} failed with.
     */
    public record Error(int seq, int errno, int requestType) implements Message {}

    /** A well-formed message of another type or address family, of no interest here. */
    public record Ignored(int type, int seq) implements Message {}

    /** Bytes that do not hold together; {@code reason} says how. */
    public record Malformed(String reason) implements Message {}

    /**
     * Decodes the {@code length} bytes at {@code off} (one received datagram) and hands each
     * message to {@code sink}, in order. A message whose body is malformed is reported and
     * skipped; a header that does not fit ends the datagram (the next boundary is unknown).
     */
    public static void decode(MemorySegment s, long off, long length, Consumer<? super Message> sink) {
        long end = off + length;
        long p = off;
        while (p < end) {
            long left = end - p;
            if (left < NLMSG_HDRLEN) {
                sink.accept(new Malformed(left + " trailing bytes, short of a netlink header"));
                return;
            }
            long msgLen = Integer.toUnsignedLong(s.get(U32, p));
            if (msgLen < NLMSG_HDRLEN || msgLen > left) {
                sink.accept(new Malformed("nlmsg_len " + msgLen + " with " + left + " bytes left"));
                return;
            }
            int type = Short.toUnsignedInt(s.get(U16, p + 4));
            int flags = Short.toUnsignedInt(s.get(U16, p + 6));
            int seq = s.get(U32, p + 8);
            sink.accept(decodeOne(s, p + NLMSG_HDRLEN, (int) msgLen - NLMSG_HDRLEN, type, flags, seq));
            p += align(msgLen);
        }
    }

    private static long align(long len) {
        return (len + 3) & ~3L;
    }

    private static Message decodeOne(MemorySegment s, long body, int bodyLen, int type, int flags, int seq) {
        return switch (type) {
            case NLMSG_DONE -> new Done(seq, (flags & NLM_F_DUMP_INTR) != 0);
            case NLMSG_ERROR -> {
                if (bodyLen < 4) {
                    yield new Malformed("NLMSG_ERROR of " + bodyLen + " bytes");
                }
                int error = s.get(U32, body);
                int requestType = bodyLen >= NLMSGERR_LEN ? Short.toUnsignedInt(s.get(U16, body + 8)) : 0;
                yield new Error(seq, -error, requestType);
            }
            case RTM_NEWLINK, RTM_DELLINK ->
                    body(s, body, bodyLen, type, seq, IFINFOMSG_LEN, false, type == RTM_DELLINK, Rtnetlink::link);
            case RTM_NEWADDR, RTM_DELADDR ->
                    body(s, body, bodyLen, type, seq, IFADDRMSG_LEN, true, type == RTM_DELADDR, Rtnetlink::address);
            case RTM_NEWROUTE, RTM_DELROUTE ->
                    body(s, body, bodyLen, type, seq, RTMSG_LEN, true, type == RTM_DELROUTE, Rtnetlink::route);
            case RTM_NEWNEIGH, RTM_DELNEIGH ->
                    body(s, body, bodyLen, type, seq, NDMSG_LEN, true, type == RTM_DELNEIGH, Rtnetlink::neighbour);
            default -> new Ignored(type, seq);
        };
    }

    /**
     * The attributes of one message by type, as the kernel's nla_parse has them (the last of a
     * type wins; types beyond {@link #MAX} are passed over), with typed readers that note the
     * first attribute of the wrong size as {@link #problem}.
     */
    private static final class Attributes {
        static final int MAX = 64; // IFLA_XDP is 43
        final MemorySegment s;
        final long[] at = new long[MAX];
        final int[] length = new int[MAX];
        String problem;

        /** Walks the rtattrs in [from, end); a structural fault is the {@link #problem}. */
        Attributes(MemorySegment s, long from, long end) {
            this.s = s;
            java.util.Arrays.fill(length, -1);
            long p = from;
            while (p < end && problem == null) {
                if (end - p < 4) {
                    problem = (end - p) + " trailing bytes, short of an attribute header";
                    break;
                }
                int len = Short.toUnsignedInt(s.get(U16, p));
                int type = Short.toUnsignedInt(s.get(U16, p + 2)) & 0x3FFF; // less NLA_F_NESTED, NLA_F_NET_BYTEORDER
                if (len < 4 || len > end - p) {
                    problem = "attribute " + type + " of length " + len + " with " + (end - p) + " bytes left";
                    break;
                }
                if (type < MAX) {
                    at[type] = p + 4;
                    length[type] = len - 4;
                }
                p += align(len);
            }
        }

        boolean has(int type) {
            return length[type] >= 0;
        }

        private boolean sized(int type, int size) {
            if (length[type] == size) {
                return true;
            }
            if (length[type] >= 0 && problem == null) {
                problem = "attribute " + type + " of " + length[type] + " bytes, not " + size;
            }
            return false;
        }

        /** A u32 in host order, or {@code absent}. */
        int u32(int type, int absent) {
            return sized(type, 4) ? s.get(U32, at[type]) : absent;
        }

        /** An IPv4 address (network order), or 0. */
        int ipv4(int type) {
            return sized(type, 4) ? s.get(BE32, at[type]) : 0;
        }

        /** A six-byte link-layer address, or -1 (absent or of another length, as some links have). */
        long mac(int type) {
            return length[type] == 6 ? Rtnetlink.mac(s, at[type]) : -1;
        }

        /** A NUL-terminated (or length-bounded) string, or null. */
        String string(int type) {
            if (!has(type)) {
                return null;
            }
            int len = 0;
            while (len < length[type] && s.get(ValueLayout.JAVA_BYTE, at[type] + len) != 0) {
                len++;
            }
            byte[] b = new byte[len];
            MemorySegment.copy(s, ValueLayout.JAVA_BYTE, at[type], b, 0, len);
            return new String(b, StandardCharsets.UTF_8);
        }
    }

    private static int u8(MemorySegment s, long off) {
        return Byte.toUnsignedInt(s.get(ValueLayout.JAVA_BYTE, off));
    }

    /** Decodes one family's message body once its fixed header has been checked and its attributes walked. */
    @FunctionalInterface
    private interface BodyDecoder {
        Message decode(MemorySegment s, long body, Attributes attributes, boolean deleted, int seq);
    }

    /**
     * A message body with a fixed header of {@code headerLen} bytes, then attributes: too short
     * is malformed, another family than IPv4 (when {@code ipv4Only}) is ignored, the rest is
     * for {@code decoder}.
     */
    private static Message body(MemorySegment s, long body, int bodyLen, int type, int seq, int headerLen,
                                boolean ipv4Only, boolean deleted, BodyDecoder decoder) {
        if (bodyLen < headerLen) {
            return new Malformed("message type " + type + " of " + bodyLen + " bytes");
        }
        if (ipv4Only && u8(s, body) != AF_INET) {
            return new Ignored(type, seq);
        }
        return decoder.decode(s, body, new Attributes(s, body + headerLen, body + bodyLen), deleted, seq);
    }

    private static Message link(MemorySegment s, long body, Attributes a, boolean deleted, int seq) {
        int index = s.get(U32, body + 4);
        Link link = new Link(deleted, seq, index, s.get(U32, body + 8), a.string(IFLA_IFNAME), a.u32(IFLA_MTU, -1),
                a.mac(IFLA_ADDRESS));
        return a.problem != null ? new Malformed("link " + index + ": " + a.problem) : link;
    }

    /**
     * The XDP program a link runs, from IFLA_XDP of an RTM_NEWLINK.
     *
     * @param attached IFLA_XDP_ATTACHED: {@link #XDP_ATTACHED_NONE}, {@code _DRV}, {@code _SKB},
     *     {@code _HW} or {@code _MULTI}
     * @param programId the program's id when one mode runs one (IFLA_XDP_PROG_ID), else that of
     *     the driver-mode, then generic-mode, then offloaded program; 0 for none
     */
    public record XdpAttachment(int index, int attached, int programId) {}

    /**
     * The XDP attachment of the link described by the first RTM_NEWLINK among the messages in
     * {@code [off, off + length)} (a reply to {@link #linkRequest}); null when there is none
     * or it does not hold together. A link without IFLA_XDP runs no program.
     */
    public static XdpAttachment xdpAttachment(MemorySegment s, long off, long length) {
        long end = off + length;
        for (long p = off; end - p >= NLMSG_HDRLEN; ) {
            long msgLen = Integer.toUnsignedLong(s.get(U32, p));
            if (msgLen < NLMSG_HDRLEN || msgLen > end - p) {
                return null;
            }
            if (Short.toUnsignedInt(s.get(U16, p + 4)) == RTM_NEWLINK && msgLen >= NLMSG_HDRLEN + IFINFOMSG_LEN) {
                long body = p + NLMSG_HDRLEN;
                Attributes link = new Attributes(s, body + IFINFOMSG_LEN, p + msgLen);
                int index = s.get(U32, body + 4);
                if (!link.has(IFLA_XDP)) {
                    return link.problem == null ? new XdpAttachment(index, XDP_ATTACHED_NONE, 0) : null;
                }
                Attributes xdp = new Attributes(s, link.at[IFLA_XDP], link.at[IFLA_XDP] + link.length[IFLA_XDP]);
                int attached = xdp.length[IFLA_XDP_ATTACHED] >= 1 ? u8(s, xdp.at[IFLA_XDP_ATTACHED]) : XDP_ATTACHED_NONE;
                int program = xdp.u32(IFLA_XDP_PROG_ID, 0);
                for (int type : new int[] {IFLA_XDP_DRV_PROG_ID, IFLA_XDP_SKB_PROG_ID, IFLA_XDP_HW_PROG_ID}) {
                    program = program != 0 ? program : xdp.u32(type, 0);
                }
                return link.problem == null && xdp.problem == null ? new XdpAttachment(index, attached, program) : null;
            }
            p += align(msgLen);
        }
        return null;
    }

    private static Message address(MemorySegment s, long body, Attributes a, boolean deleted, int seq) {
        int prefix = u8(s, body + 1);
        int index = s.get(U32, body + 4);
        int local = a.ipv4(IFA_LOCAL);
        int peer = a.ipv4(IFA_ADDRESS);
        if (a.problem == null && !a.has(IFA_LOCAL) && !a.has(IFA_ADDRESS)) {
            a.problem = "no IFA_LOCAL or IFA_ADDRESS";
        }
        if (a.problem == null && prefix > 32) {
            a.problem = "prefix length " + prefix;
        }
        if (a.problem != null) {
            return new Malformed("address on " + index + ": " + a.problem);
        }
        return new Address(deleted, seq, index, prefix, u8(s, body + 3), a.has(IFA_LOCAL) ? local : peer,
                a.has(IFA_ADDRESS) ? peer : local);
    }

    private static Message route(MemorySegment s, long body, Attributes a, boolean deleted, int seq) {
        int dstLen = u8(s, body + 1);
        Route route = new Route(deleted, seq, a.u32(RTA_TABLE, u8(s, body + 4)), u8(s, body + 7), u8(s, body + 6),
                u8(s, body + 5), s.get(U32, body + 8), dstLen, a.ipv4(RTA_DST), a.ipv4(RTA_GATEWAY),
                a.u32(RTA_OIF, 0), a.u32(RTA_PRIORITY, 0), a.ipv4(RTA_PREFSRC), a.has(RTA_MULTIPATH));
        if (a.problem == null && dstLen > 32) {
            a.problem = "destination length " + dstLen;
        }
        return a.problem != null ? new Malformed("route: " + a.problem) : route;
    }

    private static Message neighbour(MemorySegment s, long body, Attributes a, boolean deleted, int seq) {
        int index = s.get(U32, body + 4);
        Neighbour n = new Neighbour(deleted, seq, index, Short.toUnsignedInt(s.get(U16, body + 8)), u8(s, body + 10),
                a.ipv4(NDA_DST), a.mac(NDA_LLADDR));
        if (a.problem == null && !a.has(NDA_DST)) {
            a.problem = "no NDA_DST";
        }
        return a.problem != null ? new Malformed("neighbour on " + index + ": " + a.problem) : n;
    }

    private static long mac(MemorySegment s, long p) {
        long m = 0;
        for (int i = 0; i < 6; i++) {
            m = (m << 8) | Byte.toUnsignedInt(s.get(ValueLayout.JAVA_BYTE, p + i));
        }
        return m;
    }
}
