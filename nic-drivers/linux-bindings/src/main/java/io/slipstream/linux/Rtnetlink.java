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
        s.asSlice(off, len).fill((byte) 0);
        header(s, off, len, RTM_NEWNEIGH, NLM_F_REQUEST | NLM_F_CREATE, seq);
        long nd = off + NLMSG_HDRLEN;
        s.set(ValueLayout.JAVA_BYTE, nd, (byte) AF_INET);
        s.set(U32, nd + 4, ifindex);
        s.set(U16, nd + 8, (short) 0);            // ndm_state: NUD_NONE, left as the kernel has it
        s.set(ValueLayout.JAVA_BYTE, nd + 10, (byte) NTF_USE);
        long rta = nd + NDMSG_LEN;
        s.set(U16, rta, (short) 8);
        s.set(U16, rta + 2, (short) NDA_DST);
        s.set(BE32, rta + 4, ipv4);
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
            case RTM_NEWLINK, RTM_DELLINK -> link(s, body, bodyLen, type == RTM_DELLINK, seq);
            case RTM_NEWADDR, RTM_DELADDR -> address(s, body, bodyLen, type == RTM_DELADDR, seq, type);
            case RTM_NEWROUTE, RTM_DELROUTE -> route(s, body, bodyLen, type == RTM_DELROUTE, seq, type);
            case RTM_NEWNEIGH, RTM_DELNEIGH -> neighbour(s, body, bodyLen, type == RTM_DELNEIGH, seq, type);
            default -> new Ignored(type, seq);
        };
    }

    /** Walks the rtattrs in [from, end): calls {@code each} with (type, payload offset, payload length). */
    @FunctionalInterface
    private interface AttributeVisitor {
        void visit(int type, long payload, int length);
    }

    /** Returns null if every attribute holds together, else what is wrong. */
    private static String attributes(MemorySegment s, long from, long end, AttributeVisitor each) {
        long p = from;
        while (p < end) {
            if (end - p < 4) {
                return (end - p) + " trailing bytes, short of an attribute header";
            }
            int len = Short.toUnsignedInt(s.get(U16, p));
            int type = Short.toUnsignedInt(s.get(U16, p + 2)) & 0x3FFF; // without NLA_F_NESTED / NLA_F_NET_BYTEORDER
            if (len < 4 || len > end - p) {
                return "attribute " + type + " of length " + len + " with " + (end - p) + " bytes left";
            }
            each.visit(type, p + 4, len - 4);
            p += align(len);
        }
        return null;
    }

    private static Message link(MemorySegment s, long body, int bodyLen, boolean deleted, int seq) {
        if (bodyLen < IFINFOMSG_LEN) {
            return new Malformed("link message of " + bodyLen + " bytes");
        }
        int index = s.get(U32, body + 4);
        int flags = s.get(U32, body + 8);
        String[] name = {null};
        int[] mtu = {-1};
        long[] mac = {-1};
        String[] bad = {null};
        String err = attributes(s, body + IFINFOMSG_LEN, body + bodyLen, (t, p, n) -> {
            switch (t) {
                case IFLA_IFNAME -> name[0] = string(s, p, n);
                case IFLA_MTU -> {
                    if (n == 4) {
                        mtu[0] = s.get(U32, p);
                    } else {
                        bad[0] = "IFLA_MTU of " + n + " bytes";
                    }
                }
                case IFLA_ADDRESS -> mac[0] = n == 6 ? mac(s, p) : -1;
                default -> { }
            }
        });
        if (err != null || bad[0] != null) {
            return new Malformed("link " + index + ": " + (err != null ? err : bad[0]));
        }
        return new Link(deleted, seq, index, flags, name[0], mtu[0], mac[0]);
    }

    private static Message address(MemorySegment s, long body, int bodyLen, boolean deleted, int seq, int type) {
        if (bodyLen < IFADDRMSG_LEN) {
            return new Malformed("address message of " + bodyLen + " bytes");
        }
        if (Byte.toUnsignedInt(s.get(ValueLayout.JAVA_BYTE, body)) != AF_INET) {
            return new Ignored(type, seq);
        }
        int prefix = Byte.toUnsignedInt(s.get(ValueLayout.JAVA_BYTE, body + 1));
        int scope = Byte.toUnsignedInt(s.get(ValueLayout.JAVA_BYTE, body + 3));
        int index = s.get(U32, body + 4);
        int[] v = new int[2];          // local, address
        boolean[] seen = new boolean[2];
        String[] bad = {null};
        String err = attributes(s, body + IFADDRMSG_LEN, body + bodyLen, (t, p, n) -> {
            if (t == IFA_LOCAL || t == IFA_ADDRESS) {
                int i = t == IFA_LOCAL ? 0 : 1;
                if (n == 4) {
                    v[i] = s.get(BE32, p);
                    seen[i] = true;
                } else {
                    bad[0] = (t == IFA_LOCAL ? "IFA_LOCAL" : "IFA_ADDRESS") + " of " + n + " bytes";
                }
            }
        });
        if (err == null && bad[0] == null && !seen[0] && !seen[1]) {
            bad[0] = "no IFA_LOCAL or IFA_ADDRESS";
        }
        if (err == null && bad[0] == null && prefix > 32) {
            bad[0] = "prefix length " + prefix;
        }
        if (err != null || bad[0] != null) {
            return new Malformed("address on " + index + ": " + (err != null ? err : bad[0]));
        }
        int local = seen[0] ? v[0] : v[1];
        int peer = seen[1] ? v[1] : v[0];
        return new Address(deleted, seq, index, prefix, scope, local, peer);
    }

    private static Message route(MemorySegment s, long body, int bodyLen, boolean deleted, int seq, int type) {
        if (bodyLen < RTMSG_LEN) {
            return new Malformed("route message of " + bodyLen + " bytes");
        }
        if (Byte.toUnsignedInt(s.get(ValueLayout.JAVA_BYTE, body)) != AF_INET) {
            return new Ignored(type, seq);
        }
        int dstLen = Byte.toUnsignedInt(s.get(ValueLayout.JAVA_BYTE, body + 1));
        int table = Byte.toUnsignedInt(s.get(ValueLayout.JAVA_BYTE, body + 4));
        int protocol = Byte.toUnsignedInt(s.get(ValueLayout.JAVA_BYTE, body + 5));
        int scope = Byte.toUnsignedInt(s.get(ValueLayout.JAVA_BYTE, body + 6));
        int rtType = Byte.toUnsignedInt(s.get(ValueLayout.JAVA_BYTE, body + 7));
        int flags = s.get(U32, body + 8);
        // dst, gateway, oif, priority, prefsrc, table
        int[] v = {0, 0, 0, 0, 0, table};
        boolean[] multipath = {false};
        String[] bad = {null};
        String err = attributes(s, body + RTMSG_LEN, body + bodyLen, (t, p, n) -> {
            int i = switch (t) {
                case RTA_DST -> 0;
                case RTA_GATEWAY -> 1;
                case RTA_OIF -> 2;
                case RTA_PRIORITY -> 3;
                case RTA_PREFSRC -> 4;
                case RTA_TABLE -> 5;
                case RTA_MULTIPATH -> {
                    multipath[0] = true;
                    yield -1;
                }
                default -> -1;
            };
            if (i < 0) {
                return;
            }
            if (n != 4) {
                bad[0] = "route attribute " + t + " of " + n + " bytes";
                return;
            }
            boolean address = t == RTA_DST || t == RTA_GATEWAY || t == RTA_PREFSRC;
            v[i] = s.get(address ? BE32 : U32, p);
        });
        if (err == null && bad[0] == null && dstLen > 32) {
            bad[0] = "destination length " + dstLen;
        }
        if (err != null || bad[0] != null) {
            return new Malformed("route: " + (err != null ? err : bad[0]));
        }
        return new Route(deleted, seq, v[5], rtType, scope, protocol, flags, dstLen, v[0], v[1], v[2], v[3], v[4],
                multipath[0]);
    }

    private static Message neighbour(MemorySegment s, long body, int bodyLen, boolean deleted, int seq, int type) {
        if (bodyLen < NDMSG_LEN) {
            return new Malformed("neighbour message of " + bodyLen + " bytes");
        }
        if (Byte.toUnsignedInt(s.get(ValueLayout.JAVA_BYTE, body)) != AF_INET) {
            return new Ignored(type, seq);
        }
        int index = s.get(U32, body + 4);
        int state = Short.toUnsignedInt(s.get(U16, body + 8));
        int flags = Byte.toUnsignedInt(s.get(ValueLayout.JAVA_BYTE, body + 10));
        int[] dst = {0};
        boolean[] seen = {false};
        long[] mac = {-1};
        String[] bad = {null};
        String err = attributes(s, body + NDMSG_LEN, body + bodyLen, (t, p, n) -> {
            if (t == NDA_DST) {
                if (n == 4) {
                    dst[0] = s.get(BE32, p);
                    seen[0] = true;
                } else {
                    bad[0] = "NDA_DST of " + n + " bytes";
                }
            } else if (t == NDA_LLADDR) {
                mac[0] = n == 6 ? mac(s, p) : -1;
            }
        });
        if (err == null && bad[0] == null && !seen[0]) {
            bad[0] = "no NDA_DST";
        }
        if (err != null || bad[0] != null) {
            return new Malformed("neighbour on " + index + ": " + (err != null ? err : bad[0]));
        }
        return new Neighbour(deleted, seq, index, state, flags, dst[0], mac[0]);
    }

    private static long mac(MemorySegment s, long p) {
        long m = 0;
        for (int i = 0; i < 6; i++) {
            m = (m << 8) | Byte.toUnsignedInt(s.get(ValueLayout.JAVA_BYTE, p + i));
        }
        return m;
    }

    /** A NUL-terminated (or length-bounded) string attribute. */
    private static String string(MemorySegment s, long p, int n) {
        int len = 0;
        while (len < n && s.get(ValueLayout.JAVA_BYTE, p + len) != 0) {
            len++;
        }
        byte[] b = new byte[len];
        MemorySegment.copy(s, ValueLayout.JAVA_BYTE, p, b, 0, len);
        return new String(b, StandardCharsets.UTF_8);
    }
}
