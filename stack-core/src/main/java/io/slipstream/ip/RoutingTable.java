package io.slipstream.ip;

import io.slipstream.wire.Ipv4Address;

/**
 * The stack's routes: its connected subnet, and optionally a default gateway. No forwarding:
 * a stack only originates and terminates traffic.
 */
public final class RoutingTable {
    /** {@link #nextHop} result for a destination with no route. */
    public static final int NO_ROUTE = 0;

    private final int address;
    private final int netmask;
    private final int gateway;

    /** @param gateway the default gateway, or {@link Ipv4Address#ANY} for none */
    public RoutingTable(int address, int prefixLength, int gateway) {
        this.address = address;
        this.netmask = Ipv4Address.mask(prefixLength);
        this.gateway = gateway;
    }

    public int address() {
        return address;
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
     * The neighbour to send to: the destination itself on the connected subnet, else the
     * gateway; {@link #NO_ROUTE} when off-link with no gateway (0.0.0.0 is never a neighbour).
     */
    public int nextHop(int destination) {
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
