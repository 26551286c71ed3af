package io.slipstream.controlplane;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import io.slipstream.linux.NetNamespace;
import io.slipstream.linux.Rtnetlink;
import io.slipstream.testing.NetNs;
import io.slipstream.wire.Ipv4Address;
import io.slipstream.wire.MacAddress;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.function.Predicate;
import org.junit.jupiter.api.Assumptions;

/**
 * A test's piece of network: namespace {@code ours} holds veth {@code v0} as 198.18.9.1/24,
 * whose other end {@code v1} is 198.18.9.2/24 in namespace {@code peer}; a control plane
 * mirrors {@code v0}. The test changes the kernel's state with {@code ip} and compares what the
 * control plane shows with what iproute2 reports ({@code ip -j}). Closing removes everything.
 */
final class ControlPlaneSandbox implements AutoCloseable {
    static final String IF = "v0";
    static final String PEER_IF = "v1";
    static final int OUR_IP = Ipv4Address.parse("198.18.9.1");
    static final int PEER_IP = Ipv4Address.parse("198.18.9.2");
    /** Every wait for the kernel or the reader thread is bounded by this. */
    static final Duration STEP = Duration.ofSeconds(5);

    final NetNs ours;
    final NetNs peer;
    final long peerMac;
    KernelControlPlane cp;

    private ControlPlaneSandbox(NetNs ours, NetNs peer, long peerMac) {
        this.ours = ours;
        this.peer = peer;
        this.peerMac = peerMac;
    }

    static void assumeRoot() {
        Assumptions.assumeTrue(NetNs.isRoot(), "control plane tests need root (namespaces): skipped");
        Assumptions.assumeTrue(NetNs.onPath("ip"), "control plane tests need iproute2: skipped");
    }

    static ControlPlaneSandbox create() {
        NetNs ours = NetNs.create("sscp");
        NetNs peer = null;
        try {
            peer = NetNs.create("sscpp");
            // No IPv6 on the link: its neighbour discovery would only be noise.
            for (NetNs ns : List.of(ours, peer)) {
                ns.exec("sysctl", "-q", "-w", "net.ipv6.conf.all.disable_ipv6=1").orThrow();
                ns.exec("sysctl", "-q", "-w", "net.ipv6.conf.default.disable_ipv6=1").orThrow();
            }
            ours.exec("ip", "link", "add", IF, "type", "veth", "peer", "name", PEER_IF, "netns", peer.name()).orThrow();
            ours.exec("ip", "addr", "add", "198.18.9.1/24", "dev", IF).orThrow();
            peer.exec("ip", "addr", "add", "198.18.9.2/24", "dev", PEER_IF).orThrow();
            ours.exec("ip", "link", "set", IF, "up").orThrow();
            peer.exec("ip", "link", "set", PEER_IF, "up").orThrow();
            return new ControlPlaneSandbox(ours, peer, macOf(peer, PEER_IF));
        } catch (RuntimeException e) {
            if (peer != null) {
                peer.close();
            }
            ours.close();
            throw e;
        }
    }

    KernelControlPlane open() throws IOException {
        cp = KernelControlPlane.open(IF, NetNamespace.named(ours.name()));
        return cp;
    }

    /** Runs {@code ip ARGS} in our namespace; it must succeed. */
    String ip(String... args) {
        return ours.exec(prepend("ip", args)).orThrow().stdout();
    }

    /** {@code ip -j ARGS} in our namespace, parsed. */
    List<Map<String, Object>> ipJson(String... args) {
        String[] cmd = new String[args.length + 2];
        cmd[0] = "ip";
        cmd[1] = "-j";
        System.arraycopy(args, 0, cmd, 2, args.length);
        return Json.parseArray(ours.exec(cmd).orThrow().stdout());
    }

    private static String[] prepend(String first, String[] rest) {
        String[] all = new String[rest.length + 1];
        all[0] = first;
        System.arraycopy(rest, 0, all, 1, rest.length);
        return all;
    }

    /** Waits (bounded) until the control plane's snapshot satisfies {@code condition}. */
    InterfaceSnapshot await(String what, Predicate<InterfaceSnapshot> condition) {
        long deadline = System.nanoTime() + STEP.toNanos();
        while (true) {
            InterfaceSnapshot s = cp.snapshot();
            if (condition.test(s)) {
                return s;
            }
            if (System.nanoTime() - deadline > 0) {
                fail("timed out waiting for " + what + "; snapshot: " + s + "\ncounters: " + cp.counters());
            }
            pause();
        }
    }

    /** Waits (bounded) until {@code counter} reaches {@code atLeast}. */
    void awaitCount(ControlPlaneCounter counter, long atLeast) {
        long deadline = System.nanoTime() + STEP.toNanos();
        while (cp.counters().get(counter) < atLeast) {
            if (System.nanoTime() - deadline > 0) {
                fail("timed out waiting for " + counter + " >= " + atLeast + "; counters: " + cp.counters());
            }
            pause();
        }
    }

    private static void pause() {
        try {
            Thread.sleep(10);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }

    /**
     * Waits (bounded) until the snapshot describes {@code v0} as iproute2 does: link, IPv4
     * addresses, main-table routes and neighbours, each side read again at every try. Returns
     * the matching snapshot; fails with both descriptions.
     */
    InterfaceSnapshot awaitMatchesKernel() {
        long deadline = System.nanoTime() + STEP.toNanos();
        while (true) {
            InterfaceSnapshot s = cp.snapshot();
            List<String> kernel = kernelView();
            List<String> mirrored = view(s);
            if (kernel.equals(mirrored)) {
                return s;
            }
            if (System.nanoTime() - deadline > 0) {
                assertEquals(String.join("\n", kernel), String.join("\n", mirrored),
                        "the control plane differs from ip -j; counters " + cp.counters());
            }
            pause();
        }
    }

    /** The snapshot, in the terms {@link #kernelView} uses. */
    static List<String> view(InterfaceSnapshot s) {
        List<String> l = new ArrayList<>();
        l.add("link " + s.index() + " " + s.name() + " mtu " + s.mtu() + " " + MacAddress.format(s.mac())
                + (s.up() ? " UP" : "") + (s.carrier() ? " LOWER_UP" : ""));
        for (int i = 0; i < s.addressCount(); i++) {
            l.add("addr " + Ipv4Address.format(s.address(i)) + "/" + s.prefixLength(i));
        }
        TreeSet<String> routes = new TreeSet<>();
        for (InterfaceSnapshot.Route r : s.routes()) {
            routes.add(route(Ipv4Address.format(r.destination()) + "/" + r.prefixLength(), r.gateway(),
                    r.outputInterface(), r.metric(), r.preferredSource(), r.type()));
        }
        l.addAll(routes);
        TreeSet<String> neighbours = new TreeSet<>();
        for (InterfaceSnapshot.Neighbour n : s.neighbours()) {
            neighbours.add(neighbour(Ipv4Address.format(n.address()), n.mac(), n.state()));
        }
        l.addAll(neighbours);
        return l;
    }

    /** What iproute2 says of v0 now, in the same terms as {@link #view}. */
    List<String> kernelView() {
        List<String> l = new ArrayList<>();
        Map<String, Object> link = ipJson("link", "show", "dev", IF).get(0);
        @SuppressWarnings("unchecked")
        List<String> flags = (List<String>) link.get("flags");
        l.add("link " + link.get("ifindex") + " " + link.get("ifname") + " mtu " + link.get("mtu") + " "
                + MacAddress.format(MacAddress.parse((String) link.get("address")))
                + (flags.contains("UP") ? " UP" : "") + (flags.contains("LOWER_UP") ? " LOWER_UP" : ""));
        for (Map<String, Object> a : ipJson("-4", "addr", "show", "dev", IF)) {
            @SuppressWarnings("unchecked")
            List<Map<String, Object>> infos = (List<Map<String, Object>>) a.get("addr_info");
            for (Map<String, Object> info : infos) {
                l.add("addr " + info.get("local") + "/" + info.get("prefixlen"));
            }
        }
        Map<String, Integer> indexes = new java.util.HashMap<>();
        for (Map<String, Object> d : ipJson("link", "show")) {
            indexes.put((String) d.get("ifname"), ((Long) d.get("ifindex")).intValue());
        }
        TreeSet<String> routes = new TreeSet<>();
        for (Map<String, Object> r : ipJson("-4", "route", "show", "table", "main")) {
            String dst = (String) r.get("dst");
            dst = dst.equals("default") ? "0.0.0.0/0" : dst.contains("/") ? dst : dst + "/32";
            Object dev = r.get("dev");
            routes.add(route(dst, address(r.get("gateway")), dev == null ? 0 : indexes.get((String) dev),
                    r.get("metric") == null ? 0 : ((Long) r.get("metric")).intValue(), address(r.get("prefsrc")),
                    routeType((String) r.get("type"))));
        }
        l.addAll(routes);
        TreeSet<String> neighbours = new TreeSet<>();
        for (Map<String, Object> n : ipJson("-4", "neigh", "show", "dev", IF)) {
            @SuppressWarnings("unchecked")
            List<String> states = (List<String>) n.get("state");
            int state = 0;
            for (String st : states) {
                state |= nudState(st);
            }
            Object ll = n.get("lladdr");
            neighbours.add(neighbour((String) n.get("dst"), ll == null ? -1 : MacAddress.parse((String) ll), state));
        }
        l.addAll(neighbours);
        return l;
    }

    private static int address(Object text) {
        return text == null ? 0 : Ipv4Address.parse((String) text);
    }

    private static String route(String dst, int gateway, int oif, int metric, int prefsrc, int type) {
        return "route " + dst + (gateway != 0 ? " via " + Ipv4Address.format(gateway) : "") + " dev#" + oif
                + " metric " + Integer.toUnsignedString(metric)
                + (prefsrc != 0 ? " src " + Ipv4Address.format(prefsrc) : "") + " type " + type;
    }

    private static String neighbour(String ip, long mac, int state) {
        return "neigh " + ip + " " + (mac < 0 ? "-" : MacAddress.format(mac)) + " " + Integer.toHexString(state);
    }

    static int routeType(String name) {
        return switch (name == null ? "unicast" : name) {
            case "unicast" -> Rtnetlink.RTN_UNICAST;
            case "blackhole" -> 6;
            case "unreachable" -> 7;
            case "prohibit" -> 8;
            case "throw" -> 9;
            default -> throw new IllegalArgumentException("route type " + name);
        };
    }

    static int nudState(String name) {
        return switch (name) {
            case "INCOMPLETE" -> Rtnetlink.NUD_INCOMPLETE;
            case "REACHABLE" -> Rtnetlink.NUD_REACHABLE;
            case "STALE" -> Rtnetlink.NUD_STALE;
            case "DELAY" -> Rtnetlink.NUD_DELAY;
            case "PROBE" -> Rtnetlink.NUD_PROBE;
            case "FAILED" -> Rtnetlink.NUD_FAILED;
            case "NOARP" -> Rtnetlink.NUD_NOARP;
            case "PERMANENT" -> Rtnetlink.NUD_PERMANENT;
            case "NONE" -> 0;
            default -> throw new IllegalArgumentException("neighbour state " + name);
        };
    }

    /** The MAC iproute2 reports for {@code dev} in {@code ns}. */
    static long macOf(NetNs ns, String dev) {
        return MacAddress.parse((String) Json.parseArray(
                ns.exec("ip", "-j", "link", "show", "dev", dev).orThrow().stdout()).get(0).get("address"));
    }

    @Override
    public void close() {
        try {
            if (cp != null) {
                cp.close();
            }
        } finally {
            try {
                peer.close();
            } finally {
                ours.close();
            }
        }
    }
}
