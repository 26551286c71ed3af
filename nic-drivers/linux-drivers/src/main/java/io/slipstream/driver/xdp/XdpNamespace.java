package io.slipstream.driver.xdp;

import io.slipstream.config.ConfigException;
import io.slipstream.linux.Errno;
import io.slipstream.linux.Ethtool;
import io.slipstream.linux.NetNamespace;
import io.slipstream.nic.NicException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Supplier;
import java.util.stream.Stream;

/**
 * The network namespace the interface lives in ({@link XdpOptions#NAMESPACE}): the
 * process's own, or another one, named as {@code ip netns} names it or by a path such as
 * {@code /proc/PID/ns/net}. Whatever the kernel ties to a namespace is made in the interface's:
 * the interface's index, the AF_XDP sockets, the BPF link, the control plane's netlink socket
 * (all made while the driver opens, on a thread that entered it) and the kernel sockets that
 * hold the stack's ports (made at each hold, the same way). A socket keeps the namespace it was
 * made in, whichever thread uses it later, so only the making moves to that thread; the stack's
 * own threads never change namespace.
 *
 * @param path the namespace's file, or null for the process's own
 */
record XdpNamespace(Path path) {
    static final XdpNamespace OWN = new XdpNamespace(null);

    /** The namespace {@code value} names: an absolute path, or a name under {@link NetNamespace#IP_NETNS_DIR}. */
    static XdpNamespace parse(String value) {
        String v = value.strip();
        if (v.startsWith("/")) {
            return new XdpNamespace(Path.of(v));
        }
        if (v.isEmpty() || v.contains("/") || v.equals(".") || v.equals("..")) {
            throw new ConfigException(XdpOptions.NAMESPACE + ": expected a name `ip netns list` shows or an absolute"
                    + " path such as /proc/PID/ns/net, got '" + value + "'");
        }
        return new XdpNamespace(NetNamespace.named(v));
    }

    boolean isOwn() {
        return path == null;
    }

    /**
     * Runs {@code action} in this namespace: on the calling thread for the process's own, else on
     * a thread that entered it for the call (and ends with it). A namespace that cannot be
     * entered (gone, never made) is a {@link NicException} of kind NOT_FOUND naming it.
     */
    <T> T run(String ifname, Supplier<T> action) {
        if (path == null) {
            return action.get();
        }
        try {
            return NetNamespace.call(path, action::get);
        } catch (IOException e) { // only entering throws it: the action throws no checked exception
            throw new NicException(NicException.Kind.NOT_FOUND, "xdp " + ifname + ": cannot enter network namespace "
                    + path + " (" + XdpOptions.NAMESPACE + "): " + e.getMessage(), e);
        }
    }

    /**
     * How many receive queues {@code ifname} has, called from inside this namespace. In the
     * process's own, its {@code /sys/class/net/IF/queues/rx-*} entries; sysfs shows the namespace
     * it was mounted in, so in another one the driver's channel counts (ETHTOOL_GCHANNELS), or 1
     * for a driver that reports none, as libxdp assumes.
     */
    int rxQueueCount(String ifname) {
        if (path == null) {
            try (Stream<Path> entries = Files.list(Path.of("/sys/class/net", ifname, "queues"))) {
                int n = (int) entries.filter(p -> p.getFileName().toString().startsWith("rx-")).count();
                return Math.max(1, n);
            } catch (IOException e) {
                return 1;
            }
        }
        int n = Ethtool.rxQueues(ifname);
        if (n < 0 && n != -Errno.EOPNOTSUPP) {
            throw new NicException("xdp " + ifname + ": reading its channel counts (ETHTOOL_GCHANNELS) in " + path
                    + ": " + Errno.describe(-n));
        }
        return Math.max(1, n);
    }

    @Override
    public String toString() {
        return path == null ? "this process's network namespace" : "network namespace " + path;
    }
}
