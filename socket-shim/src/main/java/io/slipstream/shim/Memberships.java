package io.slipstream.shim;

import io.slipstream.shim.kernel.KernelSocket;
import io.slipstream.linux.Sockets;
import java.io.IOException;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.NetworkInterface;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.List;
import java.util.Objects;

/**
 * The multicast groups a kernel-backed {@link ShimDatagramChannel} has joined, with the JDK's
 * argument checks and conflict rules, carried out with IPv4 setsockopt requests (RFC 3678 §4.1:
 * any-source membership, source-specific membership, source blocking). Used under the channel's
 * state lock.
 */
final class Memberships {
    private final List<ShimMembershipKey> keys = new ArrayList<>();

    /** The JDK's checks of a join's arguments, before the channel's state is looked at. */
    static void checkJoin(InetAddress group, InetAddress source, int family) {
        if (!group.isMulticastAddress()) {
            throw new IllegalArgumentException("Group not a multicast address");
        }
        if (group instanceof Inet6Address) {
            if (family != Sockets.AF_INET6) {
                throw new IllegalArgumentException("Only IPv6 sockets can join IPv6 multicast group");
            }
            throw new UnsupportedOperationException("IPv6 multicast groups are not supported by Slipstream");
        }
        if (source != null) {
            checkSource(group, source);
        }
    }

    private static void checkSource(InetAddress group, InetAddress source) {
        if (source.isAnyLocalAddress()) {
            throw new IllegalArgumentException("Source address is a wildcard address");
        }
        if (source.isMulticastAddress()) {
            throw new IllegalArgumentException("Source address is multicast address");
        }
        if (source.getClass() != group.getClass()) {
            throw new IllegalArgumentException("Source address is different type to group");
        }
    }

    /**
     * The existing key for this membership, or null; IllegalStateException when the channel is
     * a member of the group on the interface with the other kind of key.
     */
    ShimMembershipKey find(InetAddress group, NetworkInterface interf, InetAddress source) {
        for (ShimMembershipKey k : keys) {
            if (!k.group().equals(group) || !Objects.equals(k.networkInterface(), interf)) {
                continue;
            }
            if (source == null) {
                if (k.sourceAddress() == null) {
                    return k;
                }
                throw new IllegalStateException("Already have source-specific membership");
            }
            if (k.sourceAddress() == null) {
                throw new IllegalStateException("Already a member to receive all packets");
            }
            if (source.equals(k.sourceAddress())) {
                return k;
            }
        }
        return null;
    }

    /** Joins on the kernel socket; {@code interf} null lets the kernel choose the interface by route. */
    ShimMembershipKey join(ShimDatagramChannel channel, KernelSocket kernel, InetAddress group,
            NetworkInterface interf, InetAddress source) throws IOException {
        int interfaceAddress = interf == null ? 0 : ipv4AddressOf(interf);
        ShimMembershipKey key = new ShimMembershipKey(channel, group, interf, source, interfaceAddress);
        kernel.setMulticastRequest(source == null ? Sockets.IP_ADD_MEMBERSHIP : Sockets.IP_ADD_SOURCE_MEMBERSHIP,
                key.groupAddress, interfaceAddress, key.lastField());
        keys.add(key);
        return key;
    }

    /** Leaves the group (a key already invalid is left alone). */
    void drop(KernelSocket kernel, ShimMembershipKey key) throws IOException {
        if (!key.isValid()) {
            return;
        }
        kernel.setMulticastRequest(key.sourceAddress() == null ? Sockets.IP_DROP_MEMBERSHIP : Sockets.IP_DROP_SOURCE_MEMBERSHIP,
                key.groupAddress, key.interfaceAddress, key.lastField());
        key.invalidate();
        keys.remove(key);
    }

    /** Blocks ({@code block} true) or unblocks datagrams from {@code source} on an any-source key. */
    static void filter(KernelSocket kernel, ShimMembershipKey key, InetAddress source, boolean block) throws IOException {
        if (!key.isValid()) {
            throw new IllegalStateException("key is no longer valid");
        }
        checkSource(key.group(), source);
        kernel.setMulticastRequest(block ? Sockets.IP_BLOCK_SOURCE : Sockets.IP_UNBLOCK_SOURCE, key.groupAddress,
                key.interfaceAddress, AcceleratedUdp.ipv4(source));
    }

    /** The channel closed: the kernel dropped every membership with the socket. */
    void invalidateAll() {
        for (ShimMembershipKey k : keys) {
            k.invalidate();
        }
        keys.clear();
    }

    /** The interface's first IPv4 address (how struct ip_mreq_source names an interface). */
    static int ipv4AddressOf(NetworkInterface interf) throws IOException {
        Enumeration<InetAddress> addresses = interf.getInetAddresses();
        while (addresses.hasMoreElements()) {
            InetAddress a = addresses.nextElement();
            if (a instanceof Inet4Address) {
                return AcceleratedUdp.ipv4(a);
            }
        }
        throw new IOException("Network interface not configured for IPv4");
    }
}
