package io.slipstream.bench;

import io.slipstream.testing.NetNs;

/**
 * {@link XdpBench}'s sandbox: two fresh network namespaces joined by a veth pair, one end in
 * each, 198.18.77.1/24 ({@link #a()}) and 198.18.77.2/24 ({@link #b()}). 198.18.0.0/15 is the
 * benchmarking range, never routed off this machine, and no other test uses this /24; since
 * neither end is in the host's namespace, parallel runs cannot meet anyway. IPv6 is off, and so
 * is transmit checksum offload on both ends: veth hands XDP the other end's frames with their
 * checksums still to be completed (CHECKSUM_PARTIAL), where a host on a real wire computes them.
 * Closing kills what still runs inside and deletes both namespaces (which takes the veth pair
 * along); it is idempotent and may run from a shutdown hook.
 */
public final class VethNamespaces implements AutoCloseable {
    static final String SUBNET = "198.18.77.";
    static final int PREFIX_LENGTH = 24;

    /** One end: its namespace, its device there and the kernel's address on it. */
    public record End(NetNs ns, String device, String address, String mac) {
        /** {@link #address()} with the prefix length, as {@code slipstream.address} takes it. */
        public String cidr() {
            return address + "/" + PREFIX_LENGTH;
        }
    }

    private final End a;
    private final End b;
    private boolean closed;

    private VethNamespaces(End a, End b) {
        this.a = a;
        this.b = b;
    }

    public static VethNamespaces create() {
        NetNs nsA = NetNs.create("xdpbench");
        NetNs nsB = null;
        try {
            nsB = NetNs.create("xdpbench");
            // Made in place, so the devices' names never exist in the host's namespace.
            NetNs.run("ip", "link", "add", "name", "xbench-a", "netns", nsA.name(), "type", "veth",
                    "peer", "name", "xbench-b", "netns", nsB.name()).orThrow();
            return new VethNamespaces(configure(nsA, "xbench-a", SUBNET + 1), configure(nsB, "xbench-b", SUBNET + 2));
        } catch (RuntimeException | Error e) {
            if (nsB != null) {
                nsB.close();
            }
            nsA.close();
            throw e;
        }
    }

    private static End configure(NetNs ns, String device, String address) {
        ns.exec("sysctl", "-q", "-w", "net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1",
                "net.ipv6.conf." + device + ".disable_ipv6=1").orThrow();
        ns.exec("ethtool", "-K", device, "tx", "off").orThrow();
        ns.exec("ip", "addr", "add", address + "/" + PREFIX_LENGTH, "dev", device).orThrow();
        ns.exec("ip", "link", "set", device, "up").orThrow();
        String mac = ns.exec("cat", "/sys/class/net/" + device + "/address").orThrow().stdout().strip();
        return new End(ns, device, address, mac);
    }

    public End a() {
        return a;
    }

    public End b() {
        return b;
    }

    /** Whether a network namespace of that name exists now. */
    public static boolean exists(String namespace) {
        return NetNs.run("ip", "netns", "list").orThrow().stdout().lines()
                .anyMatch(line -> line.split(" ")[0].equals(namespace));
    }

    /** Whether {@link #close()} has begun (from a shutdown hook, say): nothing more can run inside. */
    public synchronized boolean closed() {
        return closed;
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            b.ns().close();
        } finally {
            a.ns().close();
        }
    }
}
