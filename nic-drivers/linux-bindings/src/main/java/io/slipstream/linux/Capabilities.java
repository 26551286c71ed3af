package io.slipstream.linux;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The process's effective capabilities (capabilities(7)), as the kernel reports them in
 * {@code CapEff} of {@code /proc/self/status}: what a driver checks before it asks the kernel
 * for something privileged, so that a missing privilege is named instead of surfacing as an
 * EPERM from whichever call happened to come first.
 */
public final class Capabilities {
    public static final int CAP_NET_ADMIN = 12;
    public static final int CAP_NET_RAW = 13;
    public static final int CAP_SYS_ADMIN = 21;
    /** Since Linux 5.8; before it CAP_SYS_ADMIN is what bpf(2) asks for. */
    public static final int CAP_BPF = 39;

    private final long effective;

    private Capabilities(long effective) {
        this.effective = effective;
    }

    /** This process's effective set, read now. */
    public static Capabilities ofThisProcess() {
        try {
            return parse(Files.readAllLines(Path.of("/proc/self/status")));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read /proc/self/status", e);
        }
    }

    /** The effective set in the lines of a {@code /proc/PID/status} file. */
    static Capabilities parse(List<String> statusLines) {
        for (String line : statusLines) {
            if (line.startsWith("CapEff:")) {
                return new Capabilities(Long.parseUnsignedLong(line.substring("CapEff:".length()).strip(), 16));
            }
        }
        throw new IllegalStateException("no CapEff line in /proc/self/status");
    }

    /** A set holding exactly {@code capabilities}. */
    public static Capabilities of(int... capabilities) {
        long set = 0;
        for (int c : capabilities) {
            set |= 1L << c;
        }
        return new Capabilities(set);
    }

    public boolean has(int capability) {
        return (effective & (1L << capability)) != 0;
    }

    @Override
    public String toString() {
        return "CapEff=" + Long.toHexString(effective);
    }
}
