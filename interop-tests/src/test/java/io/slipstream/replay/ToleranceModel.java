package io.slipstream.replay;

import io.slipstream.replay.Conversation.Role;
import io.slipstream.wire.Tcp;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeSet;

/**
 * What a live end must reproduce of the recorded side, and where it may choose otherwise
 * (docs/TESTING.md, "Replay"). Sequence and acknowledgment numbers are compared relative to each
 * side's initial sequence number.
 *
 * <p>Exact: the SYN's flags and the options it negotiates (MSS, SACK-permitted, whether timestamps
 * and window scaling are used); every byte of data, at its relative sequence number; the FINs and
 * resets, in order, with their flags and relative SEQ and ACK; the acknowledgment of the peer's SYN
 * and FIN and the last acknowledgment; the byte ranges retransmitted; the SACK blocks reported;
 * whether keepalive or window probes were sent; timestamps on every segment when negotiated. For UDP, every
 * datagram's bytes, in order.
 *
 * <p>Tolerated: advertised windows (each stack sizes its buffers); timing (timers need only fire,
 * the engine waits for what a packet answers); segment boundaries (RFC 9293 §3.8.6.2 lets a sender
 * choose them, and Nagle, RFC 896, depends on timing) and PSH (RFC 9293 §3.9.1.2 lets a sender set
 * it as it sees fit); how many pure ACKs and which intermediate values they carry (delayed ACKs,
 * RFC 1122 §4.2.3.2 and RFC 5681 §4.2, are a choice); the window scale's value; how many probes a
 * timer sent; how a datagram is fragmented.
 */
public final class ToleranceModel {
    private static final int CONTROL_FLAGS = Tcp.SYN | Tcp.FIN | Tcp.RST | Tcp.ACK | Tcp.URG;

    private ToleranceModel() {}

    /**
     * A keepalive (RFC 1122 §4.2.3.6) or, as Linux sends them, a zero-window probe: SEG.SEQ =
     * SND.NXT − 1 with no data or one garbage byte. {@code highest}: the relative sequence number
     * after everything the side sent before.
     */
    static boolean isProbe(ReplayPacket p, long relSeq, long highest) {
        return !p.has(Tcp.SYN | Tcp.FIN | Tcp.RST) && p.payload().length <= 1 && relSeq == highest - 1;
    }

    public static List<Divergence> compare(Conversation c, Role role, List<ReplayPacket> recorded,
                                           List<ReplayPacket> live) {
        return c.isTcp() ? new TcpComparison(c, role, recorded, live).compare() : datagrams(recorded, live);
    }

    private static List<Divergence> datagrams(List<ReplayPacket> recorded, List<ReplayPacket> live) {
        List<Divergence> out = new ArrayList<>();
        for (int i = 0; i < Math.max(recorded.size(), live.size()); i++) {
            ReplayPacket r = i < recorded.size() ? recorded.get(i) : null;
            ReplayPacket l = i < live.size() ? live.get(i) : null;
            if (r == null || l == null || !Arrays.equals(r.payload(), l.payload())) {
                out.add(new Divergence(r == null ? 0 : r.frame(), l == null ? 0 : l.frame(), "datagram " + (i + 1),
                        r == null ? "none" : r.payload().length + " bytes", l == null ? "none"
                        : l.payload().length + " bytes" + (r != null && r.payload().length == l.payload().length
                        ? " (other bytes)" : "")));
            }
        }
        return out;
    }

    /** The comparison of one TCP side: both packet lists, with each side's numbers made relative. */
    private static final class TcpComparison {
        private final Conversation c;
        private final Side rec;
        private final Side live;
        private final List<Divergence> out = new ArrayList<>();

        TcpComparison(Conversation c, Role role, List<ReplayPacket> recorded, List<ReplayPacket> live) {
            this.c = c;
            int peerIss = c.sentBy(role.other()).stream().filter(p -> p.has(Tcp.SYN)).findFirst()
                    .map(ReplayPacket::seq).orElse(0);
            this.rec = new Side(recorded, peerIss);
            this.live = new Side(live, peerIss);
        }

        List<Divergence> compare() {
            opening();
            controls();
            data();
            retransmissions();
            acknowledgments();
            sackBlocks();
            probes();
            timestamps();
            return out;
        }

        private void opening() {
            ReplayPacket r = rec.syn;
            ReplayPacket l = live.syn;
            if (r == null && l == null) {
                return;
            }
            if (r == null || l == null) {
                out.add(new Divergence(frame(r), frame(l), "SYN", r == null ? "none" : describe(r),
                        l == null ? "none" : describe(l)));
                return;
            }
            field(r, l, "flags", flags(r), flags(l));
            field(r, l, "MSS option", r.options().mss, l.options().mss);
            field(r, l, "SACK-permitted option", r.options().sackPermitted, l.options().sackPermitted);
            field(r, l, "timestamps option", r.options().hasTimestamps, l.options().hasTimestamps);
            field(r, l, "window scale option present", r.options().windowScale >= 0, l.options().windowScale >= 0);
            if (r.has(Tcp.ACK)) {
                field(r, l, "ACK of the SYN", rec.relAck(r), live.relAck(l));
            }
        }

        /** FINs and resets, first of each, in order: flags, relative SEQ and ACK. */
        private void controls() {
            List<ReplayPacket> r = rec.controls();
            List<ReplayPacket> l = live.controls();
            for (int i = 0; i < Math.max(r.size(), l.size()); i++) {
                ReplayPacket a = i < r.size() ? r.get(i) : null;
                ReplayPacket b = i < l.size() ? l.get(i) : null;
                if (a == null || b == null) {
                    out.add(new Divergence(frame(a), frame(b), "FIN/RST " + (i + 1), a == null ? "none" : describe(a),
                            b == null ? "none" : describe(b)));
                    continue;
                }
                field(a, b, "flags", flags(a), flags(b));
                field(a, b, "relative SEQ of " + flags(a), rec.controlSeq(a), live.controlSeq(b));
                if (a.has(Tcp.ACK) && b.has(Tcp.ACK)) {
                    field(a, b, "relative ACK of " + flags(a), rec.relAck(a), live.relAck(b));
                }
            }
        }

        private void data() {
            byte[] r = rec.stream();
            byte[] l = live.stream();
            int n = Math.min(r.length, l.length);
            for (int i = 0; i < n; i++) {
                if (r[i] != l[i]) {
                    out.add(new Divergence(rec.frameHolding(i), live.frameHolding(i), "data byte at relative SEQ " + (i + 1),
                            "0x" + Integer.toHexString(r[i] & 0xFF), "0x" + Integer.toHexString(l[i] & 0xFF)));
                    return;
                }
            }
            if (r.length != l.length) {
                out.add(new Divergence(rec.frameHolding(n), live.frameHolding(n), "data length", r.length + " bytes",
                        l.length + " bytes"));
            }
        }

        private void retransmissions() {
            TreeSet<Long> r = rec.retransmittedBytes();
            TreeSet<Long> l = live.retransmittedBytes();
            if (!r.equals(l)) {
                out.add(new Divergence(0, 0, "bytes retransmitted (relative SEQ ranges)", ranges(r), ranges(l)));
            }
        }

        /** The ACKs of the peer's SYN and FIN must be there; the last ACK must match. */
        private void acknowledgments() {
            for (long ack : rec.controlAcks()) {
                if (!live.acks().contains(ack)) {
                    out.add(new Divergence(rec.frameAcking(ack), 0, "ACK of the peer's SYN or FIN", "ACK " + ack,
                            "none (ACKs sent: " + live.acks() + ")"));
                }
            }
            Long r = rec.acks().isEmpty() ? null : rec.acks().last();
            Long l = live.acks().isEmpty() ? null : live.acks().last();
            if (!Objects.equals(r, l)) {
                out.add(new Divergence(0, 0, "last relative ACK", String.valueOf(r), String.valueOf(l)));
            }
        }

        private void sackBlocks() {
            if (!rec.sackBlocks().equals(live.sackBlocks())) {
                out.add(new Divergence(0, 0, "SACK blocks reported (relative)", rec.sackBlocks().toString(),
                        live.sackBlocks().toString()));
            }
        }

        /** Probes are timer-driven: whether there were any must match, how many depends on timing. */
        private void probes() {
            if ((rec.probes() > 0) != (live.probes() > 0)) {
                out.add(new Divergence(0, 0, "keepalive or window probes sent", rec.probes() + "", live.probes() + ""));
            }
        }

        private void timestamps() {
            if (rec.syn == null || live.syn == null || !rec.syn.options().hasTimestamps) {
                return;
            }
            boolean negotiated = rec.packets.stream().filter(p -> !p.has(Tcp.SYN | Tcp.RST))
                    .anyMatch(p -> p.options().hasTimestamps);
            for (ReplayPacket p : live.packets) {
                if (!p.has(Tcp.SYN | Tcp.RST) && p.options().hasTimestamps != negotiated) {
                    out.add(new Divergence(0, p.frame(), "timestamps option", negotiated ? "present" : "absent",
                            p.options().hasTimestamps ? "present" : "absent"));
                    return;
                }
            }
        }

        private <T> void field(ReplayPacket r, ReplayPacket l, String name, T expected, T got) {
            if (!Objects.equals(expected, got)) {
                out.add(new Divergence(r.frame(), l.frame(), name, String.valueOf(expected), String.valueOf(got)));
            }
        }

        private static String flags(ReplayPacket p) {
            return Tcp.flagString(p.flags() & CONTROL_FLAGS);
        }

        private static int frame(ReplayPacket p) {
            return p == null ? 0 : p.frame();
        }

        private String describe(ReplayPacket p) {
            return flags(p) + " at relative SEQ " + (p == rec.syn || p == live.syn ? 0
                    : (p == null ? "?" : "" + (rec.packets.contains(p) ? rec.relSeq(p) : live.relSeq(p))));
        }

        private static String ranges(TreeSet<Long> bytes) {
            StringBuilder b = new StringBuilder("[");
            Long start = null;
            Long prev = null;
            for (long x : bytes) {
                if (prev == null || x != prev + 1) {
                    if (start != null) {
                        b.append(b.length() > 1 ? ", " : "").append(start).append('-').append(prev + 1);
                    }
                    start = x;
                }
                prev = x;
            }
            if (start != null) {
                b.append(b.length() > 1 ? ", " : "").append(start).append('-').append(prev + 1);
            }
            return b.append(']').toString();
        }
    }

    /** One side's packets with its numbers made relative: SEQ to its own ISN, ACK to the peer's. */
    private static final class Side {
        final List<ReplayPacket> packets;
        final ReplayPacket syn;
        private final int iss;
        private final int peerIss;

        Side(List<ReplayPacket> packets, int peerIss) {
            this.packets = packets;
            this.syn = packets.stream().filter(p -> p.has(Tcp.SYN)).findFirst().orElse(null);
            // A side that never sent a SYN (a reset for a closed port) numbers from the peer's view.
            this.iss = syn != null ? syn.seq() : packets.isEmpty() ? 0 : packets.getFirst().seq() - 1;
            this.peerIss = peerIss;
        }

        long relSeq(ReplayPacket p) {
            return Integer.toUnsignedLong(p.seq() - iss);
        }

        /** Where a FIN sits in the sequence space: after the segment's data. */
        long controlSeq(ReplayPacket p) {
            return relSeq(p) + (p.has(Tcp.FIN) ? p.payload().length : 0);
        }

        long relAck(ReplayPacket p) {
            return Integer.toUnsignedLong(p.ack() - peerIss);
        }

        List<ReplayPacket> controls() {
            List<ReplayPacket> out = new ArrayList<>();
            boolean fin = false;
            boolean rst = false;
            for (ReplayPacket p : packets) {
                if (p.has(Tcp.FIN) && !fin) {
                    fin = true;
                    out.add(p);
                } else if (p.has(Tcp.RST) && !rst) {
                    rst = true;
                    out.add(p);
                }
            }
            return out;
        }

        /** Every data byte sent, by relative sequence number (1 is the first after the SYN). */
        byte[] stream() {
            Map<Long, Byte> bytes = new LinkedHashMap<>();
            long max = 0;
            for (ReplayPacket p : packets) {
                long start = relSeq(p) + (p.has(Tcp.SYN) ? 1 : 0);
                for (int i = 0; i < p.payload().length; i++) {
                    bytes.putIfAbsent(start + i, p.payload()[i]);
                }
                max = Math.max(max, start + p.payload().length - 1);
            }
            byte[] out = new byte[(int) Math.max(0, max)];
            for (Map.Entry<Long, Byte> e : bytes.entrySet()) {
                if (e.getKey() >= 1 && e.getKey() <= max) {
                    out[(int) (e.getKey() - 1)] = e.getValue();
                }
            }
            return out;
        }

        int frameHolding(int streamIndex) {
            long seq = streamIndex + 1L;
            return packets.stream().filter(p -> p.payload().length > 0 && relSeq(p) <= seq
                    && seq < relSeq(p) + p.payload().length).findFirst().map(ReplayPacket::frame).orElse(0);
        }

        /** Data bytes sent again: below the highest sequence number already sent. Keepalive probes excluded. */
        TreeSet<Long> retransmittedBytes() {
            TreeSet<Long> out = new TreeSet<>();
            long highest = 1;
            for (ReplayPacket p : packets) {
                if (isProbe(p, highest)) {
                    continue;
                }
                long start = relSeq(p) + (p.has(Tcp.SYN) ? 1 : 0);
                for (long s = start; s < start + p.payload().length && s < highest; s++) {
                    out.add(s);
                }
                highest = Math.max(highest, start + p.payload().length);
            }
            return out;
        }

        private boolean isProbe(ReplayPacket p, long highest) {
            return ToleranceModel.isProbe(p, relSeq(p), highest);
        }

        int probes() {
            int n = 0;
            long highest = 1;
            for (ReplayPacket p : packets) {
                if (isProbe(p, highest)) {
                    n++;
                    continue;
                }
                long start = relSeq(p) + (p.has(Tcp.SYN) ? 1 : 0);
                highest = Math.max(highest, start + p.payload().length + (p.has(Tcp.FIN) ? 1 : 0));
            }
            return n;
        }

        TreeSet<Long> acks() {
            TreeSet<Long> out = new TreeSet<>();
            packets.stream().filter(p -> p.has(Tcp.ACK)).forEach(p -> out.add(relAck(p)));
            return out;
        }

        /** The ACK values that acknowledge the peer's SYN (1) or FIN: the highest ACK of each packet run ending in a FIN. */
        List<Long> controlAcks() {
            List<Long> out = new ArrayList<>();
            TreeSet<Long> all = acks();
            if (all.contains(1L) && syn != null) {
                out.add(1L);
            }
            if (!all.isEmpty() && all.last() > 1 && packets.stream().noneMatch(p -> p.has(Tcp.RST))) {
                out.add(all.last());
            }
            return out;
        }

        int frameAcking(long ack) {
            return packets.stream().filter(p -> p.has(Tcp.ACK) && relAck(p) == ack).findFirst()
                    .map(ReplayPacket::frame).orElse(0);
        }

        TreeSet<String> sackBlocks() {
            TreeSet<String> out = new TreeSet<>();
            for (ReplayPacket p : packets) {
                for (int b = 0; b < p.options().sackBlockCount; b++) {
                    out.add(Integer.toUnsignedLong(p.options().sackLeft[b] - peerIss) + "-"
                            + Integer.toUnsignedLong(p.options().sackRight[b] - peerIss));
                }
            }
            return out;
        }
    }
}
