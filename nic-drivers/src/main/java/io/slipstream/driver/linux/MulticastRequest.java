package io.slipstream.driver.linux;

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
     * struct ip_mreqn for IP_ADD_MEMBERSHIP, IP_DROP_MEMBERSHIP and IP_MULTICAST_IF; Linux uses
     * the index when it is not 0, else the interface address (0 with index 0: the kernel
     * chooses by route). Returns the length to pass.
     */
    public static int membership(MemorySegment out, int group, int interfaceAddress, int interfaceIndex) {
        out.set(NETWORK_INT, 0, group);
        out.set(NETWORK_INT, 4, interfaceAddress);
        out.set(ValueLayout.JAVA_INT_UNALIGNED, 8, interfaceIndex); // a host-order int
        return LENGTH;
    }

    /**
     * struct ip_mreq_source for IP_ADD/DROP_SOURCE_MEMBERSHIP and IP_BLOCK/UNBLOCK_SOURCE: the
     * interface is named by its address only. Returns the length to pass.
     */
    public static int source(MemorySegment out, int group, int interfaceAddress, int source) {
        out.set(NETWORK_INT, 0, group);
        out.set(NETWORK_INT, 4, interfaceAddress);
        out.set(NETWORK_INT, 8, source);
        return LENGTH;
    }

    /** An in_addr (4 bytes, network order) the kernel wrote, as an int. */
    public static int inAddr(MemorySegment in) {
        return in.get(NETWORK_INT, 0);
    }
}
