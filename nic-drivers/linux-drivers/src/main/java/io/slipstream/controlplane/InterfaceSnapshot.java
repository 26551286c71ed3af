package io.slipstream.controlplane;

import io.slipstream.linux.Rtnetlink;
import io.slipstream.nic.HostControlPlane;
import io.slipstream.wire.Ipv4Address;
import io.slipstream.wire.MacAddress;
import java.util.ArrayList;
import java.util.List;
import org.eclipse.collections.impl.map.mutable.primitive.IntLongHashMap;

/**
 * What the kernel knew about one interface at one moment: its identity, addresses, the IPv4
 * routes of the main table, and its IPv4 neighbours. Immutable once published: the lookups
 * ({@link #nextHop}, {@link #macOf}, {@link #sourceAddress}, …) read final arrays and a map
 * that is never written again, take no lock and allocate nothing, so the stack may call them
 * on its fast path from any thread.
 *
 * <p>Routes are those of the main table ({@code ip route show table main}) on every interface,
 * so that the longest match is the kernel's; a destination whose best route leaves through
 * another interface, or is a blackhole/unreachable/prohibit route, has no next hop here.
 */
public final class InterfaceSnapshot {
    /** {@link #nextHop} for a destination with no usable route (0.0.0.0 is never a neighbour). */
    public static final int NO_ROUTE = HostControlPlane.NO_ROUTE;
    /** {@link #neighbourState} of an address the kernel has no entry for. */
    public static final int NO_ENTRY = -1;

    private static final long MAC_BITS = 0xFFFF_FFFF_FFFFL;
    private static final int STATE_SHIFT = 48;
    private static final long HAS_MAC = 1L << 56;

    private final long generation;
    private final int index;
    private final String name;
    private final long mac;
    private final int mtu;
    private final int flags;
    private final int[] addresses;
    private final int[] prefixLengths;
    // Routes, longest prefix first, then lowest metric.
    private final int[] routeDestination;
    private final int[] routePrefixLength;
    private final int[] routeGateway;
    private final int[] routeInterface;
    private final int[] routeMetric;
    private final int[] routeSource;
    private final int[] routeType;
    /** ip → HAS_MAC | state << 48 | mac. */
    private final IntLongHashMap neighbours;

    /** A route as {@link #routes()} lists it (for tests and diagnostics). */
    public record Route(int destination, int prefixLength, int gateway, int outputInterface, int metric,
                        int preferredSource, int type) {
        @Override
        public String toString() {
            return Ipv4Address.format(destination) + "/" + prefixLength
                    + (gateway != 0 ? " via " + Ipv4Address.format(gateway) : "")
                    + " dev#" + outputInterface + " metric " + metric
                    + (preferredSource != 0 ? " src " + Ipv4Address.format(preferredSource) : "")
                    + (type != Rtnetlink.RTN_UNICAST ? " type " + type : "");
        }
    }

    /** A neighbour entry as {@link #neighbours()} lists it; {@code mac} -1 when the kernel has none. */
    public record Neighbour(int address, long mac, int state) {
        @Override
        public String toString() {
            return Ipv4Address.format(address) + " " + (mac < 0 ? "-" : MacAddress.format(mac)) + " state 0x"
                    + Integer.toHexString(state);
        }
    }

    InterfaceSnapshot(long generation, int index, String name, long mac, int mtu, int flags,
                      List<int[]> addressesAndPrefixes, List<Route> routes, List<Neighbour> neighbourList) {
        this.generation = generation;
        this.index = index;
        this.name = name;
        this.mac = mac;
        this.mtu = mtu;
        this.flags = flags;
        this.addresses = new int[addressesAndPrefixes.size()];
        this.prefixLengths = new int[addressesAndPrefixes.size()];
        for (int i = 0; i < addresses.length; i++) {
            addresses[i] = addressesAndPrefixes.get(i)[0];
            prefixLengths[i] = addressesAndPrefixes.get(i)[1];
        }
        List<Route> sorted = new ArrayList<>(routes);
        sorted.sort((a, b) -> a.prefixLength != b.prefixLength
                ? Integer.compare(b.prefixLength, a.prefixLength)
                : Integer.compareUnsigned(a.metric, b.metric));
        int n = sorted.size();
        routeDestination = new int[n];
        routePrefixLength = new int[n];
        routeGateway = new int[n];
        routeInterface = new int[n];
        routeMetric = new int[n];
        routeSource = new int[n];
        routeType = new int[n];
        for (int i = 0; i < n; i++) {
            Route r = sorted.get(i);
            routeDestination[i] = r.destination & Ipv4Address.mask(r.prefixLength);
            routePrefixLength[i] = r.prefixLength;
            routeGateway[i] = r.gateway;
            routeInterface[i] = r.outputInterface;
            routeMetric[i] = r.metric;
            routeSource[i] = r.preferredSource;
            routeType[i] = r.type;
        }
        neighbours = new IntLongHashMap(Math.max(8, neighbourList.size() * 2));
        for (Neighbour e : neighbourList) {
            long v = (long) (e.state & 0xFF) << STATE_SHIFT;
            if (e.mac >= 0) {
                v |= HAS_MAC | (e.mac & MAC_BITS);
            }
            neighbours.put(e.address, v);
        }
    }

    /** Increases with each snapshot the control plane publishes. */
    public long generation() {
        return generation;
    }

    /** The interface's index (ifindex); 0 once it was deleted. */
    public int index() {
        return index;
    }

    public String name() {
        return name;
    }

    /** The interface's MAC (IFLA_ADDRESS), or -1 if it has none of six bytes. */
    public long mac() {
        return mac;
    }

    public int mtu() {
        return mtu;
    }

    /** ifi_flags: IFF_UP, IFF_RUNNING, IFF_LOWER_UP, … */
    public int flags() {
        return flags;
    }

    /** Administratively up (IFF_UP). */
    public boolean up() {
        return (flags & Rtnetlink.IFF_UP) != 0;
    }

    /** The link has carrier (IFF_LOWER_UP). */
    public boolean carrier() {
        return (flags & Rtnetlink.IFF_LOWER_UP) != 0;
    }

    public int addressCount() {
        return addresses.length;
    }

    /** The interface's {@code i}-th IPv4 address, in the kernel's order (primary addresses first). */
    public int address(int i) {
        return addresses[i];
    }

    public int prefixLength(int i) {
        return prefixLengths[i];
    }

    /** The first (primary) address, or 0.0.0.0 if the interface has none. */
    public int primaryAddress() {
        return addresses.length == 0 ? Ipv4Address.ANY : addresses[0];
    }

    /** The prefix length of {@link #primaryAddress}, or 0. */
    public int primaryPrefixLength() {
        return addresses.length == 0 ? 0 : prefixLengths[0];
    }

    /** Whether {@code ipv4} is one of the interface's addresses. */
    public boolean isLocal(int ipv4) {
        for (int a : addresses) {
            if (a == ipv4) {
                return true;
            }
        }
        return false;
    }

    /** The index of the longest-prefix route for {@code dst} (lowest metric among equals), or -1. */
    private int match(int dst) {
        for (int i = 0; i < routeDestination.length; i++) {
            if ((dst & Ipv4Address.mask(routePrefixLength[i])) == routeDestination[i]) {
                return i;
            }
        }
        return -1;
    }

    private boolean usable(int route) {
        return route >= 0 && routeType[route] == Rtnetlink.RTN_UNICAST && routeInterface[route] == index && index != 0;
    }

    /** Whether the best route to {@code dst} leaves through this interface. */
    public boolean routable(int dst) {
        return nextHop(dst) != NO_ROUTE;
    }

    /**
     * The neighbour to send a datagram for {@code dst} to: the gateway of its longest-prefix
     * route, or {@code dst} itself on a route without one (on-link); {@link #NO_ROUTE} when
     * the best route leaves through another interface or discards, or there is none. The
     * limited broadcast goes on-link.
     */
    public int nextHop(int dst) {
        if (dst == Ipv4Address.BROADCAST) {
            return index == 0 ? NO_ROUTE : dst;
        }
        int r = match(dst);
        if (!usable(r)) {
            return NO_ROUTE;
        }
        return routeGateway[r] != 0 ? routeGateway[r] : dst;
    }

    /**
     * The source address for a datagram to {@code dst}: its route's preferred source if it
     * names one, else the interface's first address on the next hop's subnet, else its
     * primary address; 0.0.0.0 when it has none or there is no route.
     */
    public int sourceAddress(int dst) {
        int r = match(dst);
        if (!usable(r) && dst != Ipv4Address.BROADCAST) {
            return Ipv4Address.ANY;
        }
        if (r >= 0 && routeSource[r] != 0) {
            return routeSource[r];
        }
        int hop = r >= 0 && routeGateway[r] != 0 ? routeGateway[r] : dst;
        for (int i = 0; i < addresses.length; i++) {
            int m = Ipv4Address.mask(prefixLengths[i]);
            if ((addresses[i] & m) == (hop & m)) {
                return addresses[i];
            }
        }
        return primaryAddress();
    }

    /**
     * The gateway of the best default route (0.0.0.0/0) through this interface, or 0.0.0.0
     * if there is none.
     */
    public int defaultGateway() {
        for (int i = 0; i < routeDestination.length; i++) {
            if (routePrefixLength[i] == 0) {
                return usable(i) ? routeGateway[i] : Ipv4Address.ANY;
            }
        }
        return Ipv4Address.ANY;
    }

    /**
     * The MAC the kernel has for neighbour {@code ipv4} on this interface when its entry is
     * usable (REACHABLE, STALE, DELAY, PROBE, PERMANENT, NOARP), else -1 (no entry,
     * INCOMPLETE, FAILED).
     */
    public long macOf(int ipv4) {
        long v = neighbours.getIfAbsent(ipv4, 0L);
        if ((v & HAS_MAC) == 0 || (stateBits(v) & Rtnetlink.NUD_VALID) == 0) {
            return -1;
        }
        return v & MAC_BITS;
    }

    private static int stateBits(long v) {
        return (int) (v >>> STATE_SHIFT) & 0xFF;
    }

    /** The kernel's NUD state for neighbour {@code ipv4} (NUD_* bits), or {@link #NO_ENTRY}. */
    public int neighbourState(int ipv4) {
        long v = neighbours.getIfAbsent(ipv4, -1L);
        return v == -1L ? NO_ENTRY : stateBits(v);
    }

    public int routeCount() {
        return routeDestination.length;
    }

    public int neighbourCount() {
        return neighbours.size();
    }

    /** The routes in lookup order (allocates: for tests and diagnostics). */
    public List<Route> routes() {
        List<Route> l = new ArrayList<>(routeDestination.length);
        for (int i = 0; i < routeDestination.length; i++) {
            l.add(new Route(routeDestination[i], routePrefixLength[i], routeGateway[i], routeInterface[i],
                    routeMetric[i], routeSource[i], routeType[i]));
        }
        return l;
    }

    /** The neighbour entries (allocates: for tests and diagnostics). */
    public List<Neighbour> neighbours() {
        List<Neighbour> l = new ArrayList<>(neighbours.size());
        neighbours.forEachKeyValue((ip, v) ->
                l.add(new Neighbour(ip, (v & HAS_MAC) != 0 ? v & MAC_BITS : -1, stateBits(v))));
        return l;
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder();
        sb.append(name).append(" #").append(index).append(" mtu ").append(mtu)
                .append(mac >= 0 ? " " + MacAddress.format(mac) : "").append(up() ? " UP" : " DOWN")
                .append(carrier() ? " LOWER_UP" : "").append(" gen ").append(generation).append("\n  addresses:");
        for (int i = 0; i < addresses.length; i++) {
            sb.append(' ').append(Ipv4Address.format(addresses[i])).append('/').append(prefixLengths[i]);
        }
        sb.append("\n  routes: ").append(routes()).append("\n  neighbours: ").append(neighbours());
        return sb.toString();
    }
}
