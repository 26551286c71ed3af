package io.slipstream.shim.kernel;

import io.slipstream.linux.Sockets;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * The IPv4 multicast request structures of linux/in.h, written into a caller's segment for
 * setsockopt: {@code struct ip_mreqn} (group, interface address, interface index) and
 * {@code struct ip_mreq_source} (group, interface address, source). Addresses are IPv4
 * addresses as ints, most significant byte first, stored in network byte order.
 */
public final class MulticastRequest {
    /** sizeof(struct ip_mreqn) and sizeof(struct ip_mreq_source): three 32-bit fields each. */
    public static final int LENGTH = 12;
    private static final ValueLayout.OfInt NETWORK_INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);

    private MulticastRequest() {}

    /**
     * Writes the request {@code option} takes and returns its length. IP_ADD_MEMBERSHIP,
     * IP_DROP_MEMBERSHIP and IP_MULTICAST_IF take struct ip_mreqn, whose {@code last} field is
     * the interface index (Linux uses the index when it is not 0, else the interface address;
     * both 0: the kernel chooses by route). The source-filter options (IP_ADD/DROP_SOURCE_MEMBERSHIP,
     * IP_BLOCK/UNBLOCK_SOURCE, RFC 3678 §4.1) take struct ip_mreq_source, whose {@code last}
     * field is the source address.
     */
    public static int write(MemorySegment out, int option, int group, int interfaceAddress, int last) {
        out.set(NETWORK_INT, 0, group);
        out.set(NETWORK_INT, 4, interfaceAddress);
        boolean mreqn = option == Sockets.IP_ADD_MEMBERSHIP || option == Sockets.IP_DROP_MEMBERSHIP
                || option == Sockets.IP_MULTICAST_IF;
        // ip_mreqn's index is a host-order int; ip_mreq_source's source an in_addr.
        out.set(mreqn ? ValueLayout.JAVA_INT_UNALIGNED : NETWORK_INT, 8, last);
        return LENGTH;
    }

    /** An in_addr (4 bytes, network order) the kernel wrote, as an int. */
    public static int inAddr(MemorySegment in) {
        return in.get(NETWORK_INT, 0);
    }
}
