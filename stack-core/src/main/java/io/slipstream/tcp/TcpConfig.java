package io.slipstream.tcp;

import io.slipstream.config.ConfigException;
import io.slipstream.config.Settings;
import java.util.Locale;

/**
 * TCP tunables with their defaults. {@link #from(Settings)} reads each from its
 * {@code slipstream.tcp.*} property (or the matching {@code SLIPSTREAM_TCP_*} variable):
 *
 * <table>
 * <caption>TCP settings</caption>
 * <tr><th>Property</th><th>Default</th><th>Meaning</th></tr>
 * <tr><td>slipstream.tcp.rto.min.ms</td><td>200</td><td>lower bound of the retransmission timeout (RFC 6298 §2.4 allows below 1 s)</td></tr>
 * <tr><td>slipstream.tcp.rto.max.ms</td><td>60000</td><td>upper bound of the backed-off RTO (RFC 6298 §2.5)</td></tr>
 * <tr><td>slipstream.tcp.rto.initial.ms</td><td>1000</td><td>RTO before the first RTT sample (RFC 6298 §2.1)</td></tr>
 * <tr><td>slipstream.tcp.retries</td><td>15</td><td>retransmissions of one segment before the connection times out</td></tr>
 * <tr><td>slipstream.tcp.syn.retries</td><td>6</td><td>SYN retransmissions before connect times out</td></tr>
 * <tr><td>slipstream.tcp.delack.ms</td><td>40</td><td>delayed-ACK timeout (RFC 1122 §4.2.3.2, at most 500); an answer sent within it of receiving data makes the exchange interactive (ACKs wait for the answer)</td></tr>
 * <tr><td>slipstream.tcp.quickack.segments</td><td>16</td><td>ACKs of data sent at once at connection start, unless the exchange is interactive</td></tr>
 * <tr><td>slipstream.tcp.cc</td><td>cubic</td><td>congestion control: cubic (RFC 9438) or newreno (RFC 5681/6582)</td></tr>
 * <tr><td>slipstream.tcp.msl.ms</td><td>30000</td><td>maximum segment lifetime; TIME-WAIT lasts 2·MSL</td></tr>
 * <tr><td>slipstream.tcp.rcvbuf</td><td>262144</td><td>receive buffer bytes (bounds window and out-of-order data)</td></tr>
 * <tr><td>slipstream.tcp.sndbuf</td><td>262144</td><td>send buffer bytes</td></tr>
 * <tr><td>slipstream.tcp.syn.backlog</td><td>128</td><td>half-open connections per listener before SYN cookies</td></tr>
 * <tr><td>slipstream.tcp.keepalive.idle.ms</td><td>7200000</td><td>idle time before the first keepalive probe (RFC 1122 §4.2.3.6)</td></tr>
 * <tr><td>slipstream.tcp.keepalive.interval.ms</td><td>75000</td><td>time between unanswered probes</td></tr>
 * <tr><td>slipstream.tcp.keepalive.count</td><td>9</td><td>unanswered probes before the connection is dropped</td></tr>
 * <tr><td>slipstream.tcp.timestamps</td><td>true</td><td>offer RFC 7323 timestamps</td></tr>
 * <tr><td>slipstream.tcp.window.scaling</td><td>true</td><td>offer RFC 7323 window scaling</td></tr>
 * <tr><td>slipstream.tcp.sack</td><td>true</td><td>offer RFC 2018 SACK</td></tr>
 * <tr><td>slipstream.tcp.challenge.ack.limit</td><td>1000</td><td>challenge ACKs per second (RFC 5961 §7)</td></tr>
 * <tr><td>slipstream.tcp.ports.min / .max</td><td>32768 / 60999</td><td>ephemeral port range (RFC 6056)</td></tr>
 * </table>
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
