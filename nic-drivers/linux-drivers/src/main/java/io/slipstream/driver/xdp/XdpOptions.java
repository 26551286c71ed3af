package io.slipstream.driver.xdp;

import io.slipstream.nic.NicConfig;
import io.slipstream.nic.NicException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.stream.Stream;

/**
 * The {@code slipstream.xdp.*} settings:
 *
 * <ul>
 *   <li>{@code slipstream.xdp.queues}: {@code all} (default: every receive queue of the
 *       interface) or a comma-separated list of queue ids.
 *   <li>{@code slipstream.xdp.bind}: {@code auto} (default: zero-copy where the driver has it,
 *       copy mode otherwise), {@code zerocopy} or {@code copy}.
 *   <li>{@code slipstream.xdp.attach}: {@code auto} (default: native, else generic),
 *       {@code native} or {@code generic}.
 *   <li>{@code slipstream.xdp.connections}, {@code slipstream.xdp.listeners}: filter map sizes
 *       (default 16384 and 1024).
 * </ul>
 */
record XdpOptions(String queues, XskSocket.BindMode bindMode, boolean allowNative, boolean allowGeneric,
                  int maxConnections, int maxListeners) {

    static final String QUEUES = "slipstream.xdp.queues";
    static final String BIND = "slipstream.xdp.bind";
    static final String ATTACH = "slipstream.xdp.attach";
    static final String CONNECTIONS = "slipstream.xdp.connections";
    static final String LISTENERS = "slipstream.xdp.listeners";

    static XdpOptions from(NicConfig config) {
        XskSocket.BindMode bind = switch (config.option(BIND, "auto")) {
            case "auto" -> XskSocket.BindMode.AUTO;
            case "zerocopy" -> XskSocket.BindMode.ZEROCOPY;
            case "copy" -> XskSocket.BindMode.COPY;
            default -> throw new NicException(NicException.Kind.INVALID_CONFIG, BIND + ": expected auto, zerocopy or copy, got '"
                    + config.option(BIND, "") + "'");
        };
        String attach = config.option(ATTACH, "auto");
        if (!attach.equals("auto") && !attach.equals("native") && !attach.equals("generic")) {
            throw new NicException(NicException.Kind.INVALID_CONFIG, ATTACH + ": expected auto, native or generic, got '" + attach + "'");
        }
        return new XdpOptions(config.option(QUEUES, "all"), bind, !attach.equals("generic"), !attach.equals("native"),
                positive(config, CONNECTIONS, 16384), positive(config, LISTENERS, 1024));
    }

    private static int positive(NicConfig config, String key, int dflt) {
        String v = config.option(key, Integer.toString(dflt));
        try {
            int n = Integer.parseInt(v.strip());
            if (n >= 1) {
                return n;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new NicException(NicException.Kind.INVALID_CONFIG, key + ": expected a positive number, got '" + v + "'");
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
                    throw new NicException(NicException.Kind.INVALID_CONFIG, QUEUES + ": queue " + id + " does not exist (the interface has "
                            + rxQueues + " receive queue(s))");
                }
            }
            if (ids.length == 0) {
                throw new NumberFormatException();
            }
            return ids;
        } catch (NumberFormatException e) {
            throw new NicException(NicException.Kind.INVALID_CONFIG, QUEUES + ": expected all or a list of queue ids such as 0,1, got '" + queues + "'");
        }
    }

    /** How many receive queues {@code ifname} has: its {@code /sys/class/net/IF/queues/rx-*} entries. */
    static int rxQueueCount(String ifname) {
        try (Stream<Path> entries = Files.list(Path.of("/sys/class/net", ifname, "queues"))) {
            int n = (int) entries.filter(p -> p.getFileName().toString().startsWith("rx-")).count();
            return Math.max(1, n);
        } catch (IOException e) {
            return 1;
        }
    }
}
