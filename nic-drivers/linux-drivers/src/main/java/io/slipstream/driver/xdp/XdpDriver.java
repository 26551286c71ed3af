package io.slipstream.driver.xdp;

import io.slipstream.config.Settings;
import io.slipstream.linux.Capabilities;
import io.slipstream.linux.Libc;
import io.slipstream.linux.Xsk;
import io.slipstream.nic.NicConfig;
import io.slipstream.nic.NicDriver;
import io.slipstream.nic.NicException;
import io.slipstream.nic.VirtualInterface;
import io.slipstream.time.Clock;
import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * {@code slipstream.driver=xdp}: a virtual interface on AF_XDP sockets on an existing Linux
 * interface ({@code slipstream.interface}), sharing it with the kernel: Slipstream receives only
 * the flows added to {@link XdpInterface#filters()}, the kernel everything else, on the same
 * address. The stack takes that address, its routes and its neighbours from the kernel
 * ({@link XdpInterface#hostControlPlane()}), so {@code slipstream.address} may be left out.
 * The interface may live in another network namespace than the process
 * ({@link XdpOptions#NAMESPACE}). Needs CAP_NET_ADMIN, CAP_NET_RAW and CAP_BPF (or root; and
 * CAP_SYS_ADMIN to enter another namespace).
 */
public final class XdpDriver implements NicDriver {
    public static final String NAME = "xdp";

    @Override
    public String name() {
        return NAME;
    }

    /** The interface and its address are the kernel's: the stack takes its identity from the kernel. */
    @Override
    public boolean sharesHostInterface() {
        return true;
    }

    /**
     * Opens the interface after {@link #check}, so that the three ways it usually fails (no such
     * interface, no privilege, another program on it) are named as such whoever opens it: the
     * launcher before the program starts, or the shim at the program's first socket. Both run in
     * the interface's network namespace ({@link XdpOptions#NAMESPACE}).
     */
    @Override
    public VirtualInterface open(NicConfig config, Clock clock) {
        String ifname = config.interfaceName();
        XdpOptions options = XdpOptions.from(config);
        return check(ifname, options.namespace(), () -> XdpInterface.open(config, options, clock));
    }

    /**
     * The interface exists (NOT_FOUND), the process has the capabilities AF_XDP and an XDP
     * program need (NOT_PERMITTED, naming those it lacks), and no XDP program is attached to the
     * interface (BUSY, naming the program and how to remove it). In that order: a mistyped name
     * is the likeliest mistake, and the attached program can only be named with the privileges.
     * All in the network namespace the options name ({@link XdpOptions#NAMESPACE}); entering
     * another one takes CAP_SYS_ADMIN, so there the privileges are checked first.
     */
    @Override
    public void check(String ifname, Map<String, String> options) {
        check(ifname, XdpOptions.namespace(Settings.of(options)), () -> null);
    }

    /** {@link #check}, then {@code then}, both in {@code namespace}. */
    private static <T> T check(String ifname, XdpNamespace namespace, Supplier<T> then) {
        String os = System.getProperty("os.name", "");
        if (!os.startsWith("Linux")) {
            throw new NicException(NicException.Kind.NOT_FOUND, "xdp " + ifname + ": AF_XDP needs Linux, this is " + os);
        }
        if (!namespace.isOwn()) {
            requireCapabilities(ifname, namespace);
        }
        return namespace.run(ifname, () -> {
            int ifindex;
            try (Arena arena = Arena.ofConfined()) {
                Libc libc = new Libc(arena);
                ifindex = new Xsk(libc, arena).ifIndex(ifname);
                if (ifindex == 0) {
                    throw new NicException(NicException.Kind.NOT_FOUND, "xdp " + ifname + ": no such interface"
                            + (namespace.isOwn() ? "" : " in " + namespace) + " (" + libc.failure("if_nametoindex")
                            + "; `ip link` lists those there are)");
                }
            }
            requireCapabilities(ifname, namespace);
            AttachedXdpProgram other = AttachedXdpProgram.find(ifindex);
            if (other != null) {
                throw AttachedXdpProgram.refusal(ifname, other, null);
            }
            return then.get();
        });
    }

    private static void requireCapabilities(String ifname, XdpNamespace namespace) {
        List<String> missing = missingCapabilities(Capabilities.ofThisProcess(), !namespace.isOwn());
        if (!missing.isEmpty()) {
            throw new NicException(NicException.Kind.NOT_PERMITTED, "xdp " + ifname + ": this process lacks "
                    + String.join(", ", missing) + " (AF_XDP needs CAP_NET_ADMIN, CAP_NET_RAW and CAP_BPF"
                    + (namespace.isOwn() ? "" : ", and entering " + namespace + " CAP_SYS_ADMIN")
                    + ": run it as root, or grant them, e.g. AmbientCapabilities= in a systemd unit)");
        }
    }

    /**
     * The capabilities an AF_XDP stack needs that {@code held} lacks: CAP_NET_RAW for the
     * sockets, CAP_BPF for maps and programs, CAP_NET_ADMIN to load and attach an XDP program;
     * CAP_SYS_ADMIN stands in for the last two, as the kernel lets it, and is needed itself to
     * enter another network namespace (setns(2)) when {@code otherNamespace}.
     */
    static List<String> missingCapabilities(Capabilities held, boolean otherNamespace) {
        List<String> missing = new ArrayList<>(4);
        boolean sysAdmin = held.has(Capabilities.CAP_SYS_ADMIN);
        if (!held.has(Capabilities.CAP_NET_ADMIN) && !sysAdmin) {
            missing.add("CAP_NET_ADMIN");
        }
        if (!held.has(Capabilities.CAP_NET_RAW)) {
            missing.add("CAP_NET_RAW");
        }
        if (!held.has(Capabilities.CAP_BPF) && !sysAdmin) {
            missing.add("CAP_BPF");
        }
        if (otherNamespace && !sysAdmin) {
            missing.add("CAP_SYS_ADMIN");
        }
        return missing;
    }
}
