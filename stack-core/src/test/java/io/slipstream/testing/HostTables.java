package io.slipstream.testing;

import io.slipstream.nic.HostControlPlane;
import io.slipstream.wire.Ipv4Address;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A host control plane whose tables the test writes: the host's side in stack-core's tests of a
 * stack on a NIC that shares the host's interface (the kernel's own, over rtnetlink, is tested
 * on veth in linux-drivers). Routes are the connected subnet of each address, the routes the
 * test adds, and a default route via {@link #defaultGateway(int)}; the longest prefix wins.
 * {@link #resolve} only records the request: the test plays the host's resolution with
 * {@link #learn}, which reports the change on the calling thread, as the kernel's control plane
 * reports on its own.
 *
 * <p>Thread-safe: the stack reads it under its lock, the test writes it from any thread.
 */
public final class HostTables implements HostControlPlane {
    private record Route(int destination, int prefixLength, int gateway) {}

    private final List<Address> addresses = new CopyOnWriteArrayList<>();
    private final List<Route> routes = new CopyOnWriteArrayList<>();
    private final Map<Integer, Long> neighbours = new ConcurrentHashMap<>();
    private final List<Integer> resolveRequests = new CopyOnWriteArrayList<>();
    private volatile int defaultGateway = Ipv4Address.ANY;
    private volatile int mtu = 1500;
    private volatile boolean refuseResolve;
    private volatile Runnable listener = () -> { };

    /** Adds an address (the first is the primary) and its connected subnet. */
    public HostTables address(String cidr) {
        int slash = cidr.indexOf('/');
        addresses.add(new Address(Ipv4Address.parse(cidr.substring(0, slash)), Integer.parseInt(cidr.substring(slash + 1))));
        return this;
    }

    public HostTables defaultGateway(int gateway) {
        this.defaultGateway = gateway;
        return this;
    }

    /** A route to {@code destination}/{@code prefixLength} via {@code gateway}. */
    public HostTables route(int destination, int prefixLength, int gateway) {
        routes.add(new Route(destination & Ipv4Address.mask(prefixLength), prefixLength, gateway));
        return this;
    }

    public HostTables mtu(int mtu) {
        this.mtu = mtu;
        return this;
    }

    /** From now on, {@link #resolve} refuses (as a control plane that cannot send its request). */
    public HostTables refuseResolve(boolean refuse) {
        this.refuseResolve = refuse;
        return this;
    }

    /** The host has (or, with -1, no longer has) a MAC for {@code ip}; nothing is reported. */
    public void set(int ip, long mac) {
        if (mac < 0) {
            neighbours.remove(ip);
        } else {
            neighbours.put(ip, mac);
        }
    }

    /** The host resolved {@code ip} to {@code mac}, and reports the change (on this thread). */
    public void learn(int ip, long mac) {
        set(ip, mac);
        listener.run();
    }

    /** The neighbours the stack asked the host to resolve or confirm, in order. */
    public List<Integer> resolveRequests() {
        return List.copyOf(resolveRequests);
    }

    @Override
    public List<Address> addresses() {
        return new ArrayList<>(addresses);
    }

    @Override
    public int defaultGateway() {
        return defaultGateway;
    }

    @Override
    public int mtu() {
        return mtu;
    }

    @Override
    public int nextHop(int destination) {
        if (destination == Ipv4Address.BROADCAST) {
            return destination;
        }
        int best = -1;
        int hop = NO_ROUTE;
        for (Address a : addresses) {
            int m = Ipv4Address.mask(a.prefixLength());
            if ((destination & m) == (a.address() & m) && a.prefixLength() > best) {
                best = a.prefixLength();
                hop = destination;
            }
        }
        for (Route r : routes) {
            if ((destination & Ipv4Address.mask(r.prefixLength())) == r.destination() && r.prefixLength() > best) {
                best = r.prefixLength();
                hop = r.gateway();
            }
        }
        return best < 0 && defaultGateway != Ipv4Address.ANY ? defaultGateway : hop;
    }

    @Override
    public long neighbourMac(int neighbour) {
        Long mac = neighbours.get(neighbour);
        return mac == null ? NO_MAC : mac;
    }

    @Override
    public boolean resolve(int neighbour) {
        if (refuseResolve) {
            return false;
        }
        resolveRequests.add(neighbour);
        return true;
    }

    @Override
    public void onChange(Runnable listener) {
        this.listener = listener;
    }
}
