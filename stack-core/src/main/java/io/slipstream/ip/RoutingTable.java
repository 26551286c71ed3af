package io.slipstream.ip;

import io.slipstream.nic.HostControlPlane;
import io.slipstream.wire.Ipv4Address;

/**
 * The stack's routes. On a NIC of its own: its connected subnet, and optionally a default
 * gateway. On a NIC that shares the host's interface: the host's routes, whatever they are
 * ({@link HostControlPlane#nextHop}: longest prefix, gateways, the host's default route), so the
 * stack sends each datagram where the host would. No forwarding either way: a stack only
 * originates and terminates traffic.
 */
public final class RoutingTable {
    /** {@link #nextHop} result for a destination with no route. */
    public static final int NO_ROUTE = HostControlPlane.NO_ROUTE;

    private final int address;
    private final int netmask;
    private final int gateway;
    /** The host's control plane, which routes for the stack; null on a NIC of the stack's own. */
    private final HostControlPlane host;

    /** @param gateway the default gateway, or {@link Ipv4Address#ANY} for none */
    public RoutingTable(int address, int prefixLength, int gateway) {
        this(address, prefixLength, gateway, null);
    }

    /**
     * @param gateway the default gateway, or {@link Ipv4Address#ANY} for none (unused when the host routes)
     * @param host the control plane of the host whose interface the stack shares, or null
     */
    public RoutingTable(int address, int prefixLength, int gateway, HostControlPlane host) {
        this.address = address;
        this.netmask = Ipv4Address.mask(prefixLength);
        this.gateway = gateway;
        this.host = host;
    }

    public int address() {
        return address;
    }

    /** The host that routes and resolves neighbours for the stack, or null when the stack does both itself. */
    HostControlPlane host() {
        return host;
    }

    public boolean onLink(int destination) {
        return (destination & netmask) == (address & netmask);
    }

    /** The subnet-directed broadcast address. */
    public int subnetBroadcast() {
        return address | ~netmask;
    }

    /** Limited or subnet-directed broadcast. */
    public boolean isBroadcast(int destination) {
        return destination == Ipv4Address.BROADCAST || (netmask != -1 && destination == subnetBroadcast());
    }

    /**
     * The neighbour to send to: the host's answer when the host routes; otherwise the
     * destination itself on the connected subnet, else the gateway. {@link #NO_ROUTE} when there
     * is none (off-link with no gateway; the host routes it elsewhere or not at all).
     */
    public int nextHop(int destination) {
        if (host != null) {
            return host.nextHop(destination);
        }
        if (onLink(destination) || destination == Ipv4Address.BROADCAST) {
            return destination;
        }
        return gateway;
    }

    /** Addresses this stack accepts datagrams for. */
    public boolean isLocal(int destination) {
        return destination == address || isBroadcast(destination);
    }
}
