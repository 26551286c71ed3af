package io.slipstream.stack;

import io.slipstream.config.ConfigException;
import io.slipstream.config.StackConfig;
import io.slipstream.nic.HostControlPlane;
import io.slipstream.nic.VirtualInterface;
import io.slipstream.wire.Ipv4Address;
import java.util.List;
import java.util.Optional;

/**
 * The stack's identity on its link, settled once its NIC is open. On a NIC of its own (memory,
 * TAP) it is the configured one, which must name an address. On a NIC that shares the host's
 * interface (AF_XDP, {@link VirtualInterface#hostControlPlane()}) it is the host's: the host's
 * primary address on the interface and its prefix, unless {@code slipstream.address} names
 * another of the host's addresses there; the gateway of the host's default route; the
 * interface's MAC; and the host's MTU, bounded by the configured one. A configured address or
 * gateway that the host does not have on the interface is a configuration error naming what it
 * has: a stack on the host's interface can only be the host.
 */
final class StackIdentity {
    private StackIdentity() {}

    /** The configuration with its identity settled on {@code nic}; a {@link ConfigException} names what is wrong. */
    static StackConfig settle(StackConfig config, VirtualInterface nic) {
        Optional<HostControlPlane> host = nic.hostControlPlane();
        if (host.isEmpty()) {
            if (!config.hasAddress()) {
                throw StackConfig.addressRequired();
            }
            return config;
        }
        String iface = nic.name();
        List<HostControlPlane.Address> addresses = host.get().addresses();
        if (addresses.isEmpty()) {
            throw new ConfigException(StackConfig.ADDRESS + ": " + iface + " has no IPv4 address on the host; the stack"
                    + " shares the host's address there, so give the interface one first");
        }
        HostControlPlane.Address chosen = config.hasAddress()
                ? addresses.stream().filter(a -> a.address() == config.address()
                        && a.prefixLength() == config.prefixLength()).findFirst().orElse(null)
                : addresses.getFirst();
        if (chosen == null) {
            throw new ConfigException(StackConfig.ADDRESS + ": " + Ipv4Address.format(config.address()) + "/"
                    + config.prefixLength() + " is not an address of " + iface + " on the host, which has "
                    + String.join(", ", addresses.stream().map(HostControlPlane.Address::toString).toList())
                    + "; leave slipstream.address unset to share " + addresses.getFirst());
        }
        int hostGateway = host.get().defaultGateway();
        if (config.gateway() != Ipv4Address.ANY && config.gateway() != hostGateway) {
            throw new ConfigException(StackConfig.GATEWAY + ": " + Ipv4Address.format(config.gateway())
                    + " is not the gateway of the host's default route through " + iface + " ("
                    + (hostGateway == Ipv4Address.ANY ? "it has none" : Ipv4Address.format(hostGateway))
                    + "); leave slipstream.gateway unset: the host's routes decide");
        }
        // The host routes for the stack: the gateway is kept here only when it is on the
        // address's subnet (an "onlink" gateway elsewhere still routes, through the host).
        int mask = Ipv4Address.mask(chosen.prefixLength());
        int gateway = (hostGateway & mask) == (chosen.address() & mask) ? hostGateway : Ipv4Address.ANY;
        return config.withIdentity(chosen.address(), chosen.prefixLength(), gateway, nic.mac());
    }

    /** The largest datagram the stack sends on {@code nic}: the NIC's, and no more than the host's when it shares the host's interface. */
    static int mtu(VirtualInterface nic) {
        int hostMtu = nic.hostControlPlane().map(HostControlPlane::mtu).orElse(0);
        return hostMtu > 0 ? Math.min(nic.mtu(), hostMtu) : nic.mtu();
    }
}
