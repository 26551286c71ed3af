package io.slipstream.tcp;

import io.slipstream.config.ConfigException;
import io.slipstream.config.Setting;
import io.slipstream.config.Settings;
import java.util.List;
import java.util.Map;

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
        int receiveBufferMax,
        int sendBuffer,
        int synBacklog,
        int synPerPoll,
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

    public static final Setting.Whole RTO_MIN_MS = new Setting.Whole(PREFIX + "rto.min.ms", 200, 1, 60_000, "ms");
    public static final Setting.Whole RTO_MAX_MS = new Setting.Whole(PREFIX + "rto.max.ms", 120_000, 1, 600_000, "ms");
    public static final Setting.Whole RTO_INITIAL_MS = new Setting.Whole(PREFIX + "rto.initial.ms", 1_000, 1, 60_000, "ms");
    public static final Setting.Whole RETRIES = new Setting.Whole(PREFIX + "retries", 15, 1, 100, "retransmissions");
    public static final Setting.Whole SYN_RETRIES = new Setting.Whole(PREFIX + "syn.retries", 6, 1, 100, "retransmissions");
    public static final Setting.Whole DELACK_MS = new Setting.Whole(PREFIX + "delack.ms", 40, 1, 500, "ms");
    public static final Setting.Whole QUICKACK_SEGMENTS =
            new Setting.Whole(PREFIX + "quickack.segments", 16, 0, 1_000_000, "ACKs");
    public static final Setting.Choice CC = new Setting.Choice(PREFIX + "cc", "cubic", List.of("cubic", "newreno"));
    public static final Setting.Whole MSL_MS = new Setting.Whole(PREFIX + "msl.ms", 30_000, 1, 600_000, "ms");
    public static final Setting.Whole RCVBUF = new Setting.Whole(PREFIX + "rcvbuf", 256 * 1024, 1024, 1 << 30, "bytes");
    /** Linux's tcp_rmem[2]: how far an auto-tuned receive buffer grows. */
    public static final Setting.Whole RCVBUF_MAX =
            new Setting.Whole(PREFIX + "rcvbuf.max", 6 * 1024 * 1024, 1024, 1 << 30, "bytes");
    public static final Setting.Whole SNDBUF = new Setting.Whole(PREFIX + "sndbuf", 256 * 1024, 1024, 1 << 30, "bytes");
    public static final Setting.Whole SYN_BACKLOG = new Setting.Whole(PREFIX + "syn.backlog", 128, 1, 1 << 20, "connections");
    public static final Setting.Whole SYN_PER_POLL = new Setting.Whole(PREFIX + "syn.per.poll", 16, 1, 1 << 20, "SYNs");
    public static final Setting.Whole KEEPALIVE_IDLE_MS =
            new Setting.Whole(PREFIX + "keepalive.idle.ms", 7_200_000, 1, Long.MAX_VALUE / 1_000_000, "ms");
    public static final Setting.Whole KEEPALIVE_INTERVAL_MS =
            new Setting.Whole(PREFIX + "keepalive.interval.ms", 75_000, 1, Long.MAX_VALUE / 1_000_000, "ms");
    public static final Setting.Whole KEEPALIVE_COUNT = new Setting.Whole(PREFIX + "keepalive.count", 9, 1, 1000, "probes");
    public static final Setting.Flag TIMESTAMPS = new Setting.Flag(PREFIX + "timestamps", true);
    public static final Setting.Flag WINDOW_SCALING = new Setting.Flag(PREFIX + "window.scaling", true);
    public static final Setting.Flag SACK = new Setting.Flag(PREFIX + "sack", true);
    public static final Setting.Whole CHALLENGE_ACK_LIMIT =
            new Setting.Whole(PREFIX + "challenge.ack.limit", 1000, 1, 1_000_000, "ACKs/s");
    public static final Setting.Whole PORTS_MIN = new Setting.Whole(PREFIX + "ports.min", 32768, 1024, 65535, "");
    public static final Setting.Whole PORTS_MAX = new Setting.Whole(PREFIX + "ports.max", 60999, 1024, 65535, "");

    /** Every setting at its default. */
    public static TcpConfig defaults() {
        return from(Settings.of(Map.of()));
    }

    public static TcpConfig from(Settings s) {
        return new TcpConfig(RTO_MIN_MS.read(s), RTO_MAX_MS.read(s), RTO_INITIAL_MS.read(s), RETRIES.readInt(s),
                SYN_RETRIES.readInt(s), DELACK_MS.read(s), QUICKACK_SEGMENTS.readInt(s), CC.read(s), MSL_MS.read(s),
                RCVBUF.readInt(s), RCVBUF_MAX.readInt(s), SNDBUF.readInt(s), SYN_BACKLOG.readInt(s), SYN_PER_POLL.readInt(s), KEEPALIVE_IDLE_MS.read(s),
                KEEPALIVE_INTERVAL_MS.read(s), KEEPALIVE_COUNT.readInt(s), TIMESTAMPS.read(s), WINDOW_SCALING.read(s),
                SACK.read(s), CHALLENGE_ACK_LIMIT.readInt(s), PORTS_MIN.readInt(s), PORTS_MAX.readInt(s));
    }
}
