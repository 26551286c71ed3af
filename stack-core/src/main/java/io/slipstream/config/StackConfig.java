package io.slipstream.config;

import io.slipstream.nic.NicDriver;
import io.slipstream.wire.Ipv4Address;
import io.slipstream.wire.MacAddress;
import java.security.SecureRandom;

/**
 * One stack's identity on its link, from the configuration contract:
 * {@code slipstream.driver}, {@code slipstream.interface}, {@code slipstream.address} (CIDR),
 * {@code slipstream.gateway} (optional), {@code slipstream.mac} (optional; random locally
 * administered by default).
 *
 * <p>A driver that shares the host's own interface ({@link NicDriver#sharesHostInterface()},
 * {@code xdp}) takes the address from the host's control plane when {@code slipstream.address}
 * is not set: the configuration then has none ({@link #hasAddress()} false) until the stack,
 * once its NIC is open, settles it ({@link #withIdentity}); a given address is checked against
 * the host's there. Every other driver needs the address.
 *
 * @param address the stack's own IPv4 address; 0.0.0.0 while it is left to the host
 * @param prefixLength the connected subnet's prefix length; {@link #FROM_HOST} while the address is left to the host
 * @param gateway the default gateway, or {@link Ipv4Address#ANY} for none
 */
public record StackConfig(
        String driver,
        String interfaceName,
        int address,
        int prefixLength,
        int gateway,
        long mac,
        Settings settings) {

    public static final String DRIVER = "slipstream.driver";
    public static final String INTERFACE = "slipstream.interface";
    public static final String ADDRESS = "slipstream.address";
    public static final String GATEWAY = "slipstream.gateway";
    public static final String MAC = "slipstream.mac";

    /** {@link #prefixLength()} of a configuration whose address is left to the host's control plane. */
    public static final int FROM_HOST = 0;

    private static final String CIDR_FORM = "an IPv4 address in CIDR form such as 198.18.5.2/24";

    public StackConfig {
        // Left to the host, the address is 0.0.0.0 and the gateway is checked against the host's later.
        boolean fromHost = address == Ipv4Address.ANY && prefixLength == FROM_HOST;
        if (!fromHost && (prefixLength < 1 || prefixLength > 32)) {
            throw ConfigException.malformed(ADDRESS, CIDR_FORM, Ipv4Address.format(address) + "/" + prefixLength);
        }
        if (!fromHost && gateway != Ipv4Address.ANY && !sameSubnet(address, gateway, prefixLength)) {
            throw new ConfigException(GATEWAY + ": gateway " + Ipv4Address.format(gateway)
                    + " is not in the connected subnet " + Ipv4Address.format(address & Ipv4Address.mask(prefixLength))
                    + "/" + prefixLength);
        }
    }

    /** Reads and checks every setting; the first problem found is thrown. */
    public static StackConfig from(Settings s) {
        String driver = s.require(DRIVER, "a driver name such as memory or tap");
        if (!driver.matches("[a-z][a-z0-9_-]*")) {
            throw ConfigException.malformed(DRIVER, "a driver name such as memory or tap", driver);
        }
        String iface = s.require(INTERFACE, "a device name such as tap0");
        if (iface.length() > 15 || !iface.matches("[A-Za-z0-9_.:-]+")) {
            throw ConfigException.malformed(INTERFACE, "a device name of at most 15 characters such as tap0", iface);
        }
        if (!s.has(ADDRESS) && sharesHostInterface(driver)) {
            return new StackConfig(driver, iface, Ipv4Address.ANY, FROM_HOST, gateway(s), mac(s), s);
        }
        String cidr = s.require(ADDRESS, CIDR_FORM);
        int slash = cidr.indexOf('/');
        if (slash < 0) {
            throw ConfigException.malformed(ADDRESS, CIDR_FORM, cidr);
        }
        int address = s.parse(ADDRESS, CIDR_FORM, 0, v -> Ipv4Address.parse(v.substring(0, slash)));
        int prefix = s.parse(ADDRESS, CIDR_FORM, 0, v -> {
            String p = v.substring(slash + 1);
            if (!p.matches("[0-9]{1,2}")) {
                throw new IllegalArgumentException(p);
            }
            return Integer.parseInt(p);
        });
        if (prefix < 1 || prefix > 32) {
            throw ConfigException.malformed(ADDRESS, CIDR_FORM, cidr);
        }
        return new StackConfig(driver, iface, address, prefix, gateway(s), mac(s), s);
    }

    private static int gateway(Settings s) {
        return s.parse(GATEWAY, "an IPv4 address such as 198.18.5.1", Ipv4Address.ANY, Ipv4Address::parse);
    }

    private static long mac(Settings s) {
        long mac = s.parse(MAC, "a MAC address such as 02:00:00:00:00:01", -1L, v -> {
            long m = MacAddress.parse(v);
            if (MacAddress.isMulticast(m) || m == MacAddress.ZERO) {
                throw new IllegalArgumentException("not a unicast address");
            }
            return m;
        });
        return mac == -1L ? MacAddress.randomLocal(new SecureRandom()) : mac;
    }

    /**
     * Whether {@code driver} is known here to take the stack's address from the host. An unknown
     * driver is not: the address stays required, and opening the stack names the missing driver.
     */
    private static boolean sharesHostInterface(String driver) {
        return NicDriver.find(driver).map(NicDriver::sharesHostInterface).orElse(false);
    }

    /** The error for a stack with no address: none configured, and no host to take it from. */
    public static ConfigException addressRequired() {
        return ConfigException.missing(ADDRESS, CIDR_FORM);
    }

    /** False while the address is left to the host's control plane (see {@link #withIdentity}). */
    public boolean hasAddress() {
        return prefixLength != FROM_HOST;
    }

    /** This configuration with the identity the stack settled on when its NIC opened. */
    public StackConfig withIdentity(int address, int prefixLength, int gateway, long mac) {
        return new StackConfig(driver, interfaceName, address, prefixLength, gateway, mac, settings);
    }

    /** Whether {@code destination} is on the connected subnet; false while the address is left to the host. */
    public boolean onLink(int destination) {
        return hasAddress() && sameSubnet(address, destination, prefixLength);
    }

    private static boolean sameSubnet(int a, int b, int prefixLength) {
        int m = Ipv4Address.mask(prefixLength);
        return (a & m) == (b & m);
    }

    @Override
    public String toString() {
        return "StackConfig[driver=" + driver + ", interface=" + interfaceName + ", address="
                + (hasAddress() ? Ipv4Address.format(address) + "/" + prefixLength : "the host's")
                + (gateway == Ipv4Address.ANY ? "" : ", gateway=" + Ipv4Address.format(gateway))
                + ", mac=" + MacAddress.format(mac) + "]";
    }
}
