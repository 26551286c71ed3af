package io.slipstream.driver.xdp;

import io.slipstream.config.ConfigException;
import io.slipstream.config.Setting;
import io.slipstream.config.Settings;
import io.slipstream.nic.NicConfig;
import java.util.Arrays;
import java.util.List;

/**
 * The {@code slipstream.xdp.*} settings, each declared once here with its default:
 * {@link #QUEUES} (which receive queues get a socket), {@link #BIND} (zero-copy or copy mode),
 * {@link #ATTACH} (native or generic XDP), {@link #CONNECTIONS} and {@link #LISTENERS} (the
 * filter maps' sizes), {@link #NAMESPACE} (the network namespace the interface is in). A value
 * that cannot be meant is a {@link ConfigException} naming the setting.
 */
record XdpOptions(String queues, XskSocket.BindMode bindMode, boolean allowNative, boolean allowGeneric,
                  int maxConnections, int maxListeners, XdpNamespace namespace) {

    /** {@code all} or a list of queue ids; checked against the interface by {@link #queues(int)}. */
    static final String QUEUES = "slipstream.xdp.queues";
    static final Setting.Choice BIND = new Setting.Choice("slipstream.xdp.bind", "auto", List.of("auto", "zerocopy", "copy"));
    static final Setting.Choice ATTACH = new Setting.Choice("slipstream.xdp.attach", "auto", List.of("auto", "native", "generic"));
    static final Setting.Whole CONNECTIONS = new Setting.Whole("slipstream.xdp.connections", 16384, 1, 1 << 24, "entries");
    /** A name {@code ip netns} knows or an absolute path; unset: the process's own namespace ({@link XdpNamespace}). */
    static final String NAMESPACE = "slipstream.xdp.namespace";
    static final Setting.Whole LISTENERS = new Setting.Whole("slipstream.xdp.listeners", 1024, 1, 1 << 20, "entries");

    static XdpOptions from(NicConfig config) {
        Settings s = Settings.of(config.options());
        XskSocket.BindMode bind = switch (BIND.read(s)) {
            case "zerocopy" -> XskSocket.BindMode.ZEROCOPY;
            case "copy" -> XskSocket.BindMode.COPY;
            default -> XskSocket.BindMode.AUTO;
        };
        String attach = ATTACH.read(s);
        return new XdpOptions(s.get(QUEUES, "all").strip(), bind, !attach.equals("generic"), !attach.equals("native"),
                CONNECTIONS.readInt(s), LISTENERS.readInt(s), namespace(s));
    }

    /** The network namespace {@link #NAMESPACE} names, or the process's own. */
    static XdpNamespace namespace(Settings s) {
        return s.has(NAMESPACE) ? XdpNamespace.parse(s.get(NAMESPACE, "")) : XdpNamespace.OWN;
    }

    /** The queue ids to open, checked against the interface's {@code rxQueues}. */
    int[] queues(int rxQueues) {
        if (queues.equals("all")) {
            int[] all = new int[rxQueues];
            Arrays.setAll(all, i -> i);
            return all;
        }
        try {
            int[] ids = Arrays.stream(queues.split(",")).map(String::strip).mapToInt(Integer::parseInt).distinct()
                    .toArray();
            for (int id : ids) {
                if (id < 0 || id >= rxQueues) {
                    throw new ConfigException(QUEUES + ": queue " + id + " does not exist (the interface has "
                            + rxQueues + " receive queue(s))");
                }
            }
            if (ids.length == 0) {
                throw new NumberFormatException();
            }
            return ids;
        } catch (NumberFormatException e) {
            throw new ConfigException(QUEUES + ": expected all or a list of queue ids such as 0,1, got '" + queues + "'");
        }
    }
}
