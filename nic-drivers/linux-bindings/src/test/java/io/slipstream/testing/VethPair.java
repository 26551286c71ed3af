package io.slipstream.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.ThreadLocalRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A veth pair for a test: {@code sx<hex>a} stays in this (root) namespace as 198.19.N.1/24,
 * the kernel's address on the link, where a driver is opened; its peer {@code sx<hex>b} lives
 * in a fresh {@link NetNs} as 198.19.N.2/24 (N random in 1..254, so parallel runs rarely meet, or
 * in the range the system property {@code veth.subnets} names, {@code FIRST-LAST}, for runs that
 * must keep to theirs; 198.18.0.0/15 is the benchmarking range, never routed off this machine). IPv6 is off on both
 * ends, and so is their transmit checksum offload: veth hands XDP the other end's frames with
 * checksums still to be completed (CHECKSUM_PARTIAL), and a host on a real wire computes them;
 * either end may carry an XDP stack.
 * Closing deletes the pair (one end takes the other along) and the namespace, also after a
 * failure.
 */
public final class VethPair implements AutoCloseable {
    private final NetNs ns;
    /** The namespace the peer is in: {@link #ns} unless {@link #movePeerTo} moved it. */
    private NetNs peerNs;
    private final String local;
    private final String peer;
    private final int subnet;
    private boolean closed;

    private VethPair(NetNs ns, String local, String peer, int subnet) {
        this.ns = ns;
        this.peerNs = ns;
        this.local = local;
        this.peer = peer;
        this.subnet = subnet;
    }

    /** Creates the pair with {@code queues} receive and transmit queues on each end. */
    public static VethPair create(int queues) {
        NetNs ns = NetNs.create("ssveth");
        String hex = NetNs.randomHex(8);
        VethPair v = new VethPair(ns, "sx" + hex + "a", "sx" + hex + "b", randomSubnet());
        String q = Integer.toString(queues);
        try {
            NetNs.run("ip", "link", "add", v.local, "numrxqueues", q, "numtxqueues", q, "type", "veth",
                    "peer", "name", v.peer, "numrxqueues", q, "numtxqueues", q).orThrow();
        } catch (RuntimeException | Error e) {
            ns.close();
            throw e;
        }
        try {
            NetNs.run("ip", "link", "set", v.peer, "netns", ns.name()).orThrow();
            NetNs.run("sysctl", "-q", "-w", "net.ipv6.conf." + v.local + ".disable_ipv6=1").orThrow();
            NetNs.run("ethtool", "-K", v.local, "tx", "off").orThrow();
            NetNs.run("ip", "addr", "add", v.localAddress() + "/24", "dev", v.local).orThrow();
            NetNs.run("ip", "link", "set", v.local, "up").orThrow();
            ns.exec("sysctl", "-q", "-w", "net.ipv6.conf." + v.peer + ".disable_ipv6=1").orThrow();
            ns.exec("ethtool", "-K", v.peer, "tx", "off").orThrow();
            ns.exec("ip", "addr", "add", v.peerAddress() + "/24", "dev", v.peer).orThrow();
            ns.exec("ip", "link", "set", v.peer, "up").orThrow();
            return v;
        } catch (RuntimeException | Error e) {
            v.close();
            throw e;
        }
    }

    /** A third octet for the pair's /24: random in 1..254, or in {@code veth.subnets} when set. */
    private static int randomSubnet() {
        String range = System.getProperty("veth.subnets", "1-254");
        Matcher m = Pattern.compile("(\\d{1,3})-(\\d{1,3})").matcher(range.strip());
        int first = m.matches() ? Integer.parseInt(m.group(1)) : 0;
        int last = m.matches() ? Integer.parseInt(m.group(2)) : 0;
        if (first < 1 || last > 254 || first > last) {
            throw new IllegalArgumentException("veth.subnets: expected FIRST-LAST within 1-254, got '" + range + "'");
        }
        return ThreadLocalRandom.current().nextInt(first, last + 1);
    }

    /** The namespace the peer end is in. */
    public NetNs ns() {
        return peerNs;
    }

    /**
     * Moves the peer end into {@code target} (another pair's namespace, so that one kernel
     * reaches both pairs' local ends), with its address, IPv6 and transmit checksum offload off,
     * and up there. Closing still
     * deletes the pair and this pair's own namespace.
     */
    public void movePeerTo(NetNs target) {
        peerNs.exec("ip", "link", "set", peer, "netns", target.name()).orThrow();
        peerNs = target;
        target.exec("sysctl", "-q", "-w", "net.ipv6.conf." + peer + ".disable_ipv6=1").orThrow();
        target.exec("ethtool", "-K", peer, "tx", "off").orThrow();
        target.exec("ip", "addr", "add", peerAddress() + "/24", "dev", peer).orThrow();
        target.exec("ip", "link", "set", peer, "up").orThrow();
    }

    /** The end in this namespace. */
    public String local() {
        return local;
    }

    /** The end in {@link #ns()}. */
    public String peer() {
        return peer;
    }

    /** The kernel's address on {@link #local()}, dotted. */
    public String localAddress() {
        return "198.19." + subnet + ".1";
    }

    /** The peer's address, dotted. */
    public String peerAddress() {
        return "198.19." + subnet + ".2";
    }

    /** The local end's MAC, as {@code ip link} prints it. */
    public String localMac() {
        try {
            return Files.readString(Path.of("/sys/class/net", local, "address")).strip();
        } catch (IOException e) {
            throw new IllegalStateException("no MAC for " + local, e);
        }
    }

    /** The peer's MAC, as {@code ip link} prints it. */
    public String peerMac() {
        String show = peerNs.exec("ip", "link", "show", peer).orThrow().stdout();
        Matcher m = Pattern.compile("link/ether ([0-9a-f:]{17})").matcher(show);
        if (!m.find()) {
            throw new IllegalStateException("no MAC address in: " + show);
        }
        return m.group(1);
    }

    /** {@code ip -d link show} of the local end: "prog/xdp" appears while an XDP program is attached. */
    public String showLocal() {
        return NetNs.run("ip", "-d", "link", "show", local).orThrow().stdout();
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            NetNs.run("ip", "link", "delete", local);
        } finally {
            ns.close();
        }
    }
}
