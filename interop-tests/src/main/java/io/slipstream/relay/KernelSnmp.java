package io.slipstream.relay;

import io.slipstream.testing.NetNs;
import java.util.List;

/** Counters of a namespace's kernel from /proc/net/snmp (read inside it: /proc/net is per namespace). */
public final class KernelSnmp {
    private final List<String> lines;

    private KernelSnmp(List<String> lines) {
        this.lines = lines;
    }

    public static KernelSnmp of(NetNs ns) {
        return new KernelSnmp(ns.exec("cat", "/proc/net/snmp").orThrow().stdout().lines().toList());
    }

    /** The counter {@code name} of protocol {@code protocol} ("Tcp", "InCsumErrors"). */
    public long get(String protocol, String name) {
        for (int i = 0; i + 1 < lines.size(); i++) {
            String[] names = lines.get(i).split(" ");
            String[] values = lines.get(i + 1).split(" ");
            if (names[0].equals(protocol + ":") && values[0].equals(protocol + ":")) {
                for (int k = 1; k < names.length && k < values.length; k++) {
                    if (names[k].equals(name)) {
                        return Long.parseLong(values[k]);
                    }
                }
            }
        }
        throw new IllegalArgumentException("no " + protocol + " " + name + " in /proc/net/snmp");
    }

    /** Segments the kernel found corrupt: IP headers that failed their checks and TCP checksums that failed. */
    public long corruptReceived() {
        return get("Ip", "InHdrErrors") + get("Tcp", "InCsumErrors");
    }

    /**
     * Established connections that went to CLOSED by a reset (RFC 1213 tcpEstabResets), either
     * way; not the resets a kernel answers late duplicates with after a close.
     */
    public long establishedResets() {
        return get("Tcp", "EstabResets");
    }
}
