package io.slipstream.bench;

import io.slipstream.testing.NetNs;
import java.util.function.Function;

/**
 * The namespace benches' sandbox ({@link XdpBench}, {@link ServerBench}): two fresh network
 * namespaces joined by a veth pair, one end in each, SUBNET.1/24 ({@link #a()}) and SUBNET.2/24
 * ({@link #b()}); each bench names its own /24 of 198.18.0.0/15, the benchmarking range, never
 * routed off this machine. Since neither end is in the host's namespace, parallel runs cannot
 * meet anyway. SUBNET.11 and SUBNET.12 are left free on a and b for a stack with an address of
 * its own (the packet driver, {@link End#ownStackAddress()}). IPv6 is off, and so
 * is transmit checksum offload on both ends: veth hands XDP the other end's frames with their
 * checksums still to be completed (CHECKSUM_PARTIAL), where a host on a real wire computes them.
 * Closing kills what still runs inside and deletes both namespaces (which takes the veth pair
 * along); it is idempotent and may run from a shutdown hook.
 */
public final class VethNamespaces implements AutoCloseable {
    static final int PREFIX_LENGTH = 24;
    /** Added to an end's host number for the address a stack of its own takes there. */
    private static final int OWN_STACK_HOST_OFFSET = 10;

    /**
     * One end: its namespace, its device there, the kernel's address on it, and the free address
     * on its link that a stack with an address of its own (the packet driver) takes.
     */
    public record End(NetNs ns, String device, String address, String mac, String ownStackAddress) {
        /** {@link #address()} with the prefix length, as {@code slipstream.address} takes it. */
        public String cidr() {
            return address + "/" + PREFIX_LENGTH;
        }

        /** {@link #ownStackAddress()} with the prefix length, as {@code --address} takes it. */
        public String ownStackCidr() {
            return ownStackAddress + "/" + PREFIX_LENGTH;
        }
    }

    private final End a;
    private final End b;
    private boolean closed;

    private VethNamespaces(End a, End b) {
        this.a = a;
        this.b = b;
    }

    /**
     * Makes the sandbox, runs {@code body} in it and removes it: at the end, on failure, and on
     * Ctrl-C (a shutdown hook; {@code body} sees {@link #closed()} and stops). {@code prefix}
     * names the namespaces, {@code subnet} is the /24's first three octets with their dot.
     */
    public static <T> T using(String prefix, String subnet, Function<VethNamespaces, T> body) {
        VethNamespaces net = create(prefix, subnet);
        Thread cleanup = new Thread(net::close, prefix + "-cleanup");
        Runtime.getRuntime().addShutdownHook(cleanup);
        try {
            return body.apply(net);
        } finally {
            net.close();
            try {
                Runtime.getRuntime().removeShutdownHook(cleanup);
            } catch (IllegalStateException shuttingDown) {
                // the hook runs anyway, and close is idempotent
            }
        }
    }

    public static VethNamespaces create(String prefix, String subnet) {
        NetNs nsA = NetNs.create(prefix);
        NetNs nsB = null;
        try {
            nsB = NetNs.create(prefix);
            // Made in place, so the devices' names never exist in the host's namespace.
            NetNs.run("ip", "link", "add", "name", "xbench-a", "netns", nsA.name(), "type", "veth",
                    "peer", "name", "xbench-b", "netns", nsB.name()).orThrow();
            return new VethNamespaces(configure(nsA, "xbench-a", subnet, 1), configure(nsB, "xbench-b", subnet, 2));
        } catch (RuntimeException | Error e) {
            if (nsB != null) {
                nsB.close();
            }
            nsA.close();
            throw e;
        }
    }

    private static End configure(NetNs ns, String device, String subnet, int host) {
        String address = subnet + host;
        ns.exec("sysctl", "-q", "-w", "net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1",
                "net.ipv6.conf." + device + ".disable_ipv6=1").orThrow();
        ns.exec("ethtool", "-K", device, "tx", "off").orThrow();
        ns.exec("ip", "addr", "add", address + "/" + PREFIX_LENGTH, "dev", device).orThrow();
        ns.exec("ip", "link", "set", device, "up").orThrow();
        String mac = ns.exec("cat", "/sys/class/net/" + device + "/address").orThrow().stdout().strip();
        return new End(ns, device, address, mac, subnet + (host + OWN_STACK_HOST_OFFSET));
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
