package io.slipstream.shim;

import java.io.IOException;
import java.net.InetAddress;
import java.net.NetworkInterface;
import java.nio.channels.MembershipKey;
import java.nio.channels.MulticastChannel;
import java.util.HashSet;
import java.util.Set;

/**
 * A multicast membership of a {@link ShimDatagramChannel} on the kernel. Valid until dropped
 * or the channel closes; an any-source key keeps the sources it blocks, so blocking twice is a
 * no-op and unblocking a source that is not blocked fails, as the JDK's keys do.
 */
final class ShimMembershipKey extends MembershipKey {
    private final ShimDatagramChannel channel;
    private final InetAddress group;
    private final NetworkInterface interf;
    private final InetAddress source;
    /** The IPv4 addresses the kernel requests name: group, interface (0: any), source (0: any-source). */
    final int groupAddress;
    final int interfaceAddress;
    final int interfaceIndex;
    final int sourceAddress;
    private final Set<InetAddress> blocked = new HashSet<>();
    private volatile boolean valid = true;

    ShimMembershipKey(ShimDatagramChannel channel, InetAddress group, NetworkInterface interf, InetAddress source,
            int interfaceAddress) {
        this.channel = channel;
        this.group = group;
        this.interf = interf;
        this.source = source;
        this.groupAddress = AcceleratedUdp.ipv4(group);
        this.interfaceAddress = interfaceAddress;
        this.interfaceIndex = interf == null ? 0 : Math.max(interf.getIndex(), 0);
        this.sourceAddress = source == null ? 0 : AcceleratedUdp.ipv4(source);
    }

    /** The last field of this membership's request: the interface index (any-source) or the source. */
    int lastField() {
        return source == null ? interfaceIndex : sourceAddress;
    }

    @Override
    public boolean isValid() {
        return valid;
    }

    void invalidate() {
        valid = false;
    }

    @Override
    public void drop() {
        channel.drop(this);
    }

    @Override
    public MembershipKey block(InetAddress toBlock) throws IOException {
        if (source != null) {
            throw new IllegalStateException("key is source-specific");
        }
        synchronized (blocked) {
            if (!blocked.contains(toBlock)) {
                channel.block(this, toBlock);
                blocked.add(toBlock);
            }
        }
        return this;
    }

    @Override
    public MembershipKey unblock(InetAddress toUnblock) {
        synchronized (blocked) {
            if (!blocked.contains(toUnblock)) {
                throw new IllegalStateException("not blocked");
            }
            channel.unblock(this, toUnblock);
            blocked.remove(toUnblock);
        }
        return this;
    }

    @Override
    public MulticastChannel channel() {
        return channel;
    }

    @Override
    public InetAddress group() {
        return group;
    }

    @Override
    public NetworkInterface networkInterface() {
        return interf;
    }

    @Override
    public InetAddress sourceAddress() {
        return source;
    }

    @Override
    public String toString() {
        return "<" + group.getHostAddress() + "," + (interf == null ? "any" : interf.getName())
                + (source == null ? "" : "," + source.getHostAddress()) + ">";
    }
}
