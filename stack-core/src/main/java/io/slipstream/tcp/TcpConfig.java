package io.slipstream.tcp;

import io.slipstream.config.ConfigException;
import io.slipstream.config.Settings;
import java.util.Locale;

/**
 * TCP tunables with their defaults. {@link #from(Settings)} reads each from its
 * {@code slipstream.tcp.*} property (or the matching {@code SLIPSTREAM_TCP_*} variable); the
 * table of them, with defaults and meaning, is docs/CONFIGURATION.md ("TCP"), which
 * ConfigurationDocsTest holds to this code.
 */
public record TcpConfig(
        long rtoMinMs,
        long rtoMaxMs,
        long rtoInitialMs,
        int retries,
        int synRetries,
        long delayedAckMs,
        int quickAckSegments,
        String congestionControl,
        long mslMs,
        int receiveBuffer,
        int sendBuffer,
        int synBacklog,
        long keepAliveIdleMs,
        long keepAliveIntervalMs,
        int keepAliveCount,
        boolean timestamps,
        boolean windowScaling,
        boolean sack,
        int challengeAckLimit,
        int ephemeralMin,
        int ephemeralMax) {

    public static final String PREFIX = "slipstream.tcp.";

    public TcpConfig {
        if (rtoMinMs < 1 || rtoMaxMs < rtoMinMs || rtoInitialMs < rtoMinMs) {
            throw new ConfigException(PREFIX + "rto.*: need 1 <= rto.min <= rto.initial and rto.min <= rto.max");
        }
        if (!congestionControl.equals("cubic") && !congestionControl.equals("newreno")) {
            throw new ConfigException(PREFIX + "cc: expected cubic or newreno, got '" + congestionControl + "'");
        }
        if (ephemeralMin < 1024 || ephemeralMax > 65535 || ephemeralMin > ephemeralMax) {
            throw new ConfigException(PREFIX + "ports.min/max: need 1024 <= min <= max <= 65535");
        }
    }

    public static TcpConfig defaults() {
        return new TcpConfig(200, 60_000, 1_000, 15, 6, 40, 16, "cubic", 30_000, 256 * 1024, 256 * 1024,
                128, 7_200_000, 75_000, 9, true, true, true, 1000, 32768, 60999);
    }

    public static TcpConfig from(Settings s) {
        TcpConfig d = defaults();
        return new TcpConfig(
                s.getLong(PREFIX + "rto.min.ms", d.rtoMinMs, 1, 60_000),
                s.getLong(PREFIX + "rto.max.ms", d.rtoMaxMs, 1, 600_000),
                s.getLong(PREFIX + "rto.initial.ms", d.rtoInitialMs, 1, 60_000),
                s.getInt(PREFIX + "retries", d.retries, 1, 100),
                s.getInt(PREFIX + "syn.retries", d.synRetries, 1, 100),
                s.getLong(PREFIX + "delack.ms", d.delayedAckMs, 1, 500),
                s.getInt(PREFIX + "quickack.segments", d.quickAckSegments, 0, 1_000_000),
                s.get(PREFIX + "cc", d.congestionControl).toLowerCase(Locale.ROOT),
                s.getLong(PREFIX + "msl.ms", d.mslMs, 1, 600_000),
                s.getInt(PREFIX + "rcvbuf", d.receiveBuffer, 1024, 1 << 30),
                s.getInt(PREFIX + "sndbuf", d.sendBuffer, 1024, 1 << 30),
                s.getInt(PREFIX + "syn.backlog", d.synBacklog, 1, 1 << 20),
                s.getLong(PREFIX + "keepalive.idle.ms", d.keepAliveIdleMs, 1, Long.MAX_VALUE / 1_000_000),
                s.getLong(PREFIX + "keepalive.interval.ms", d.keepAliveIntervalMs, 1, Long.MAX_VALUE / 1_000_000),
                s.getInt(PREFIX + "keepalive.count", d.keepAliveCount, 1, 1000),
                s.getBoolean(PREFIX + "timestamps", d.timestamps),
                s.getBoolean(PREFIX + "window.scaling", d.windowScaling),
                s.getBoolean(PREFIX + "sack", d.sack),
                s.getInt(PREFIX + "challenge.ack.limit", d.challengeAckLimit, 1, 1_000_000),
                s.getInt(PREFIX + "ports.min", d.ephemeralMin, 1024, 65535),
                s.getInt(PREFIX + "ports.max", d.ephemeralMax, 1024, 65535));
    }
}
