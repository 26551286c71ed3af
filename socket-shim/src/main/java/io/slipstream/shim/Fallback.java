package io.slipstream.shim;

import io.slipstream.config.Setting;
import io.slipstream.config.Settings;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.net.SocketException;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * The fallback policy ({@code slipstream.fallback}: {@code kernel}, the default, or
 * {@code error}) and the count of sockets that fell back, per reason. Each reason is logged
 * once, at DEBUG, the first time it happens.
 */
public final class Fallback {
    public static final Setting.Choice MODE = new Setting.Choice("slipstream.fallback", "kernel", List.of("kernel", "error"));
    private static final System.Logger LOG = System.getLogger("io.slipstream.shim");

    private final boolean error;
    private final AtomicLongArray counts = new AtomicLongArray(FallbackReason.values().length);

    Fallback(boolean error) {
        this.error = error;
    }

    static Fallback from(Settings settings) {
        return new Fallback(MODE.read(settings).equals("error"));
    }

    public boolean isError() {
        return error;
    }

    /**
     * A socket is about to run on the kernel for {@code reason}: counts it, or throws when the
     * policy is {@code error}.
     */
    void fallBack(FallbackReason reason, Object what) throws IOException {
        fallBack(reason, what, null);
    }

    /** As {@link #fallBack(FallbackReason, Object)}, for a reason with an error behind it (a NIC that did not open). */
    void fallBack(FallbackReason reason, Object what, Exception cause) throws IOException {
        Objects.requireNonNull(reason, "reason");
        if (error) {
            SocketException refused = new SocketException(MODE.name() + "=error: " + what + " would fall back to the kernel: "
                    + reason.text() + (cause == null ? "" : ": " + cause.getMessage()));
            if (cause != null) {
                refused.initCause(cause);
            }
            throw refused;
        }
        if (counts.getAndIncrement(reason.ordinal()) == 0) {
            LOG.log(Level.DEBUG, () -> "Slipstream: sockets fall back to the kernel: " + reason.text() + " (first: " + what + ")");
        }
    }

    /**
     * Tells the operator why sockets run on the kernel (or are refused) when the cause is theirs
     * to fix — a NIC that does not open, a rejected configuration: one line on standard error,
     * as the JVM's own warnings are, whatever logging the program has set up (the JDK's default
     * log format takes two lines, and a program may silence it). The caller says it once per
     * cause. The cause's trace goes to the log at DEBUG.
     */
    static void warn(String message, Throwable cause) {
        System.err.println("slipstream: warning: " + message.replace('\n', ' '));
        LOG.log(Level.DEBUG, "Slipstream: " + message, cause);
    }

    public long count(FallbackReason reason) {
        return counts.get(reason.ordinal());
    }

    /** Non-zero counts, for the stack dump. */
    public Map<FallbackReason, Long> counts() {
        Map<FallbackReason, Long> m = new EnumMap<>(FallbackReason.class);
        for (FallbackReason r : FallbackReason.values()) {
            long c = counts.get(r.ordinal());
            if (c != 0) {
                m.put(r, c);
            }
        }
        return m;
    }
}
