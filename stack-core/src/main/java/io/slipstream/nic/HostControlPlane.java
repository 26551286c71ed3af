package io.slipstream.nic;

import io.slipstream.wire.Ipv4Address;
import java.util.List;

/**
 * The control plane of the host whose own network interface a NIC shares with the stack (the
 * Linux kernel's, for AF_XDP): the host's addresses on the interface, its routes, its neighbours
 * (the ARP cache) and a way to have it resolve one. The stack on such a NIC has the host's
 * address and MAC, and the NIC delivers it only the flows it owns, never ARP: the host keeps
 * answering ARP for the shared address, so the stack takes its identity, its next hops and its
 * neighbours' MACs from the host, and sends and answers no ARP itself. A NIC exposes it through
 * {@link VirtualInterface#hostControlPlane()}; docs/ARCHITECTURE.md, "The kernel's control plane".
 *
 * <p>Threading: the lookups ({@link #nextHop}, {@link #neighbourMac}) and {@link #resolve} may be
 * called from any thread, the stack's data path included: they read the host's tables as last
 * published, take no lock, allocate nothing and never block. {@link #onChange}'s listener runs on
 * the control plane's own thread.
 */
public interface HostControlPlane {
    /** {@link #nextHop} of a destination the host routes elsewhere or not at all (0.0.0.0 is never a neighbour). */
    int NO_ROUTE = 0;
    /** {@link #neighbourMac} of a neighbour the host has no usable entry for. */
    long NO_MAC = -1;

    /** One of the host's IPv4 addresses on the interface, with its subnet's prefix length. */
    record Address(int address, int prefixLength) {
        @Override
        public String toString() {
            return Ipv4Address.format(address) + "/" + prefixLength;
        }
    }

    /** The host's IPv4 addresses on the interface, its primary one first (allocates: for the stack's start). */
    List<Address> addresses();

    /** The gateway of the host's default route through this interface, or 0.0.0.0 if it has none. */
    int defaultGateway();

    /** The interface's MTU as the host has it (the largest IP datagram), or 0 if it does not know it. */
    int mtu();

    /**
     * The neighbour to send a datagram for {@code destination} to, by the host's routes (longest
     * prefix first): its route's gateway, or the destination itself on a route without one;
     * {@link #NO_ROUTE} when the host's best route leaves through another interface or discards.
     */
    int nextHop(int destination);

    /** The MAC the host has for neighbour {@code neighbour} on the interface while usable, else {@link #NO_MAC}. */
    long neighbourMac(int neighbour);

    /**
     * Asks the host to resolve {@code neighbour}, or to confirm the entry it has: the host sends
     * its own ARP requests, from its own address, and the answer shows in later
     * {@link #neighbourMac} answers (and an {@link #onChange}). Returns false when the request
     * was not made (not a unicast neighbour, closed, or it could not be sent).
     */
    boolean resolve(int neighbour);

    /**
     * Runs {@code listener} on the control plane's thread after each change of the host's tables.
     * It must return quickly, never throw, and touch no stack state: it may only record that a
     * look is due and wake the stack. One listener: a later call replaces it.
     */
    void onChange(Runnable listener);
}
