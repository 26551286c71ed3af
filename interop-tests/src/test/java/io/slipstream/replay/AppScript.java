package io.slipstream.replay;

import io.slipstream.replay.Conversation.Role;
import io.slipstream.wire.Tcp;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * What the application on the replayed stack does, derived from what its side sent in the
 * capture: the socket's setup (options its SYN shows, keepalive, Nagle) and the calls it makes,
 * each to be made just before a given packet of the conversation.
 *
 * <p>Derivation: data the side sent that it had not sent before is a write of those bytes; its
 * FIN is a shutdown of output, or a close when it later answers the peer's data with a reset (the
 * kernel's application had closed); a reset that answers nothing is an abort. Reads take all
 * there is after every packet, except while the side advertised a zero window (a slow reader):
 * then the reads wait for the packet where its window opens again.
 */
public record AppScript(Role role, boolean tcp, Setup setup, List<Step> steps) {

    public enum Call { OPEN, WRITE, SHUTDOWN, CLOSE, ABORT, SEND_DATAGRAM }

    /** One call, made just before packet {@code beforePacket} of the conversation (its list index). */
    public record Step(Call call, int beforePacket, byte[] data) {
        @Override
        public String toString() {
            return call + (data.length > 0 ? " " + data.length + " bytes" : "") + " before packet index " + beforePacket;
        }
    }

    /**
     * The socket and stack settings the capture shows. {@code listens}: a server side that
     * answered the SYN (one that answered with a reset had no listener). {@code mtu}: the one
     * whose MSS the side announced. {@code receiveBufferBytes}: for a slow reader, what it took
     * in before its window closed (0: the stack's default). {@code keepAliveIdleMs} 0: off.
     */
    public record Setup(boolean listens, boolean timestamps, boolean windowScaling, boolean sack, int mtu,
                        boolean noDelay, int receiveBufferBytes, long keepAliveIdleMs, long keepAliveIntervalMs,
                        int firstReadIndex) {}

    private static final int IP_AND_TCP_HEADERS = 40;
    private static final int DEFAULT_MTU = 1500;

    public static AppScript derive(Conversation c, Role role) {
        return c.isTcp() ? tcp(c, role) : udp(c, role);
    }

    private static AppScript udp(Conversation c, Role role) {
        List<Step> steps = new ArrayList<>();
        steps.add(new Step(Call.OPEN, 0, new byte[0]));
        List<ReplayPacket> ps = c.packets();
        for (int i = 0; i < ps.size(); i++) {
            if (c.sentBy(ps.get(i), role)) {
                steps.add(new Step(Call.SEND_DATAGRAM, i, ps.get(i).payload()));
            }
        }
        return new AppScript(role, false, new Setup(role == Role.SERVER, true, true, true, DEFAULT_MTU, true, 0, 0, 0, 0),
                steps);
    }

    private static AppScript tcp(Conversation c, Role role) {
        List<ReplayPacket> ps = c.packets();
        ReplayPacket ownSyn = c.sentBy(role).stream().filter(p -> p.has(Tcp.SYN)).findFirst().orElse(null);
        ReplayPacket peerSyn = c.sentBy(role.other()).stream().filter(p -> p.has(Tcp.SYN)).findFirst().orElse(null);
        boolean listens = role == Role.CLIENT || ownSyn != null;
        // An option the side left out although the peer offered it (or, as client, at all) was off.
        boolean ts = ownSyn == null || ownSyn.options().hasTimestamps || peerOmits(role, peerSyn, p -> p.options().hasTimestamps);
        boolean ws = ownSyn == null || ownSyn.options().windowScale >= 0 || peerOmits(role, peerSyn, p -> p.options().windowScale >= 0);
        boolean sack = ownSyn == null || ownSyn.options().sackPermitted || peerOmits(role, peerSyn, p -> p.options().sackPermitted);
        int mtu = ownSyn == null || ownSyn.options().mss < 0 ? DEFAULT_MTU : ownSyn.options().mss + IP_AND_TCP_HEADERS;

        List<Step> steps = new ArrayList<>();
        steps.add(new Step(Call.OPEN, 0, new byte[0]));
        int iss = ownSyn == null ? 0 : ownSyn.seq();
        int peerIss = peerSyn == null ? 0 : peerSyn.seq();
        long written = 0;
        long peerAcked = 0;
        long smallUnackedEnd = -1;
        boolean noDelay = false;
        boolean finDone = false;
        boolean resetDone = false;
        int peerWindow = 1;
        long lastActivityNanos = ps.isEmpty() ? 0 : ps.getFirst().timeNanos();
        long keepAliveIdleMs = 0;
        long keepAliveIntervalMs = 0;
        long lastProbeNanos = 0;
        int zeroWindowAt = -1;
        int reopenAt = -1;
        long receivedBeforeZero = 0;
        long peerBytes = 0;
        int finStep = -1;
        for (int i = 0; i < ps.size(); i++) {
            ReplayPacket p = ps.get(i);
            if (!c.sentBy(p, role)) {
                peerWindow = p.window();
                if (p.has(Tcp.ACK)) {
                    peerAcked = Math.max(peerAcked, Integer.toUnsignedLong(p.ack() - iss - 1));
                }
                if (!p.has(Tcp.SYN)) {
                    peerBytes = Math.max(peerBytes, Integer.toUnsignedLong(p.seq() - peerIss - 1) + p.payload().length);
                }
                lastActivityNanos = p.timeNanos();
                continue;
            }
            long rel = Integer.toUnsignedLong(p.seq() - iss) - 1; // -1 for a keepalive before any data
            int len = p.payload().length;
            boolean probe = !p.has(Tcp.SYN | Tcp.FIN | Tcp.RST) && len <= 1 && rel + 1 == written && peerAcked >= written;
            if (probe && peerWindow > 0) {
                // A keepalive (RFC 1122 §4.2.3.6): one byte behind snd.nxt after an idle time.
                if (keepAliveIdleMs == 0) {
                    keepAliveIdleMs = Math.round((p.timeNanos() - lastActivityNanos) / 1e6);
                } else if (keepAliveIntervalMs == 0) {
                    keepAliveIntervalMs = Math.round((p.timeNanos() - lastProbeNanos) / 1e6);
                }
                lastProbeNanos = p.timeNanos();
                continue;
            }
            lastActivityNanos = p.timeNanos();
            if (!p.has(Tcp.SYN) && !p.has(Tcp.RST)) {
                if (p.window() == 0 && zeroWindowAt < 0) {
                    zeroWindowAt = i;
                    receivedBeforeZero = peerBytes;
                } else if (p.window() > 0 && zeroWindowAt >= 0 && reopenAt < 0) {
                    reopenAt = i;
                }
            }
            if (len > 0 && rel + len > written) {
                long from = Math.max(rel, written);
                steps.add(new Step(Call.WRITE, i, Arrays.copyOfRange(p.payload(), (int) (from - rel), len)));
                // Nagle (RFC 896) holds a small segment while another small one is unacknowledged.
                if (smallUnackedEnd > peerAcked && len < mtu - IP_AND_TCP_HEADERS - 12) {
                    noDelay = true;
                }
                if (len < mtu - IP_AND_TCP_HEADERS - 12) {
                    smallUnackedEnd = rel + len;
                }
                written = rel + len;
            }
            if (p.has(Tcp.FIN) && !finDone) {
                finDone = true;
                finStep = steps.size();
                steps.add(new Step(Call.SHUTDOWN, i, new byte[0]));
            }
            if (p.has(Tcp.RST) && !resetDone && listens) {
                resetDone = true;
                if (finStep >= 0) {
                    // The side had closed, not half-closed: the peer's data drew the reset.
                    Step fin = steps.get(finStep);
                    steps.set(finStep, new Step(Call.CLOSE, fin.beforePacket(), fin.data()));
                } else {
                    steps.add(new Step(Call.ABORT, i, new byte[0]));
                }
            }
        }
        if (keepAliveIntervalMs == 0) {
            keepAliveIntervalMs = keepAliveIdleMs;
        }
        if (!resetDone && listens) {
            steps.add(new Step(Call.CLOSE, ps.size(), new byte[0]));
        }
        int firstRead = zeroWindowAt >= 0 ? (reopenAt >= 0 ? reopenAt : ps.size()) : 0;
        int receiveBuffer = zeroWindowAt >= 0 ? (int) Math.max(1024, receivedBeforeZero) : 0;
        return new AppScript(role, true, new Setup(listens, ts, ws, sack, mtu, noDelay, receiveBuffer, keepAliveIdleMs,
                keepAliveIntervalMs, firstRead), steps);
    }

    /** Whether the peer's SYN did not offer what {@code offered} tests (so the side's SYN-ACK could not). */
    private static boolean peerOmits(Role role, ReplayPacket peerSyn, java.util.function.Predicate<ReplayPacket> offered) {
        return role == Role.SERVER && peerSyn != null && !offered.test(peerSyn);
    }

    public List<Step> stepsBefore(int packetIndex) {
        return steps.stream().filter(s -> s.beforePacket() == packetIndex).toList();
    }
}
