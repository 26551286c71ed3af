package io.slipstream.replay;

import io.slipstream.replay.Conversation.Role;
import io.slipstream.wire.Tcp;
import io.slipstream.wire.TcpOptions;
import java.util.ArrayList;
import java.util.List;

/**
 * The replay engine: plays one side of a recorded conversation against a live end that plays the
 * other, then compares what the live end sent with what the recorded side sent
 * ({@link ToleranceModel}).
 *
 * <p>Pacing follows the recording: time passes between packets as it did in the capture, the
 * application's calls are made where the capture shows their effect, and a packet of the replayed
 * side that answers something (it acknowledges the live end's data, SYN or FIN, follows a
 * retransmission or a keepalive or window probe of the recorded side; for UDP, it comes after the
 * live end's datagram) waits until the live end has sent that, up to
 * {@link #MAX_WAIT_NANOS}.
 *
 * <p>Translation: addresses and ports become the live ones (the live end's ephemeral port is the
 * one its SYN or first datagram came from). The replayed side's own sequence numbers and
 * timestamps are sent as recorded, its peer keeps no other view of them; what refers to the live
 * end's numbers is translated: the acknowledgment number and SACK blocks move by the difference
 * between the recorded and the live initial sequence numbers, and a timestamp echo (TSecr)
 * becomes the live end's latest TSval, the value RFC 7323 §4.3 has a receiver echo. An
 * acknowledgment of more than the live end has sent (it cut its segments elsewhere, or holds one
 * back under Nagle's test until this very ACK) acknowledges what it has sent.
 */
public final class Replayer {
    /** How long a packet waits for the live end's answer it depends on. */
    static final long MAX_WAIT_NANOS = 10_000_000_000L;
    /**
     * Time between looks while waiting: on virtual time a millisecond costs nothing; in real time
     * the engine must answer about as fast as the recorded peer did, or the live end's timers
     * (a tail loss probe fires after two round trips, some 10 ms) see a slower path than recorded.
     */
    private final long waitStepNanos;
    /** Real time a replay may take beyond the recording's length before the engine stops waiting. */
    private static final long REAL_TIME_BUDGET_NANOS = 15_000_000_000L;
    private long deadline;
    /** The packet whose answer the engine stopped waiting for, if it had to. */
    private ReplayPacket gaveUp;
    private static final long RUN_OUT_STEP_NANOS = 10_000_000L;
    /** A longer pause in the recording is cut to this (none of the corpus has one). */
    private static final long MAX_GAP_NANOS = 5_000_000_000L;
    /**
     * Time after the last packet for the live end's last answers (its delayed ACK, TIME-WAIT's
     * ACK): a second of virtual time costs nothing, real time is kept to a fifth of it.
     */
    private final long runOutNanos;

    /** What a replay found: the recorded side's packets, the live end's, and how they differ. */
    public record Result(Conversation conversation, Role role, AppScript script, List<ReplayPacket> recorded,
                         List<ReplayPacket> live, List<ReplayPacket> injected, List<Divergence> divergences,
                         String diagnostics) {
        /** Writes {@link #report} to target/replay-reports/DRIVER/NAME.ROLE.txt, for reading after a run. */
        public void writeReport(String driver) throws java.io.IOException {
            java.nio.file.Path dir = java.nio.file.Path.of("target", "replay-reports", driver);
            java.nio.file.Files.createDirectories(dir);
            java.nio.file.Files.writeString(dir.resolve(conversation.name().replace(".pcap", "") + "." + role + ".txt"),
                    report());
        }

        public String report() {
            StringBuilder b = new StringBuilder(conversation.name() + " with the live end as " + role + ": "
                    + divergences.size() + " divergence(s)\n");
            divergences.forEach(d -> b.append("  ").append(d).append('\n'));
            b.append("script: ").append(script.setup()).append('\n');
            b.append("live end: ").append(diagnostics).append('\n');
            b.append("recorded side:\n");
            recorded.forEach(p -> b.append("  ").append(p).append('\n'));
            b.append("live end:\n");
            live.forEach(p -> b.append("  ").append(p).append('\n'));
            b.append("replayed to it:\n");
            injected.forEach(p -> b.append("  ").append(p).append('\n'));
            return b.toString();
        }
    }

    private final Conversation conversation;
    private final Role role;
    private final LiveTarget target;
    private final AppScript script;
    private final int peerPort;
    private int livePort;
    private final int recordedIss;
    private int liveIss;
    private boolean liveSynSeen;
    private long liveEnd;
    private int liveDatagrams;
    private int latestLiveTsVal;
    private int liveProbes;
    /** Sequence space the application has handed the live end so far: SYN, bytes written, FIN. */
    private long queuedEnd = 1;
    /** Relative sequence numbers at which the live end sent data again. */
    private final java.util.Set<Long> liveResent = new java.util.HashSet<>();
    private final List<ReplayPacket> live = new ArrayList<>();
    private final List<ReplayPacket> injected = new ArrayList<>();

    private Replayer(Conversation c, Role role, LiveTarget target) {
        this.conversation = c;
        this.role = role;
        this.target = target;
        this.script = AppScript.derive(c, role);
        this.waitStepNanos = target.virtualTime() ? 1_000_000L : 20_000L;
        this.runOutNanos = target.virtualTime() ? 1_000_000_000L : 200_000_000L;
        this.peerPort = role == Role.CLIENT ? c.serverPort() : c.clientPort();
        this.livePort = role == Role.SERVER ? c.serverPort() : -1;
        this.recordedIss = c.sentBy(role).stream().filter(p -> p.has(Tcp.SYN)).findFirst().map(ReplayPacket::seq)
                .orElse(0);
    }

    /** Replays {@code c} with {@code target} playing {@code role}; the target is left open. */
    public static Result replay(Conversation c, Role role, LiveTarget target) throws Exception {
        return new Replayer(c, role, target).run();
    }

    private Result run() throws Exception {
        List<ReplayPacket> packets = conversation.packets();
        long recordedNanos = packets.getLast().timeNanos() - packets.getFirst().timeNanos();
        deadline = System.nanoTime() + Math.min(recordedNanos, MAX_GAP_NANOS) + REAL_TIME_BUDGET_NANOS;
        boolean reading = script.setup().firstReadIndex() == 0;
        long previous = packets.getFirst().timeNanos();
        for (int i = 0; i < packets.size(); i++) {
            ReplayPacket p = packets.get(i);
            target.pass(Math.min(MAX_GAP_NANOS, Math.max(0, p.timeNanos() - previous)));
            previous = p.timeNanos();
            collect();
            if (i == script.setup().firstReadIndex()) {
                reading = true;
            }
            for (AppScript.Step step : script.stepsBefore(i)) {
                call(step);
            }
            if (!conversation.sentBy(p, role)) {
                awaitAnswered(i);
                ReplayPacket out = translate(p);
                if (out != null) {
                    injected.add(out);
                    target.inject(out);
                }
            }
            target.service(reading);
            collect();
        }
        for (AppScript.Step step : script.stepsBefore(packets.size())) {
            call(step);
        }
        for (long t = 0; t < runOutNanos; t += RUN_OUT_STEP_NANOS) {
            target.pass(RUN_OUT_STEP_NANOS);
            target.service(true);
            collect();
        }
        List<ReplayPacket> recorded = conversation.sentBy(role);
        List<Divergence> divergences = new ArrayList<>(ToleranceModel.compare(conversation, role, recorded, live));
        if (gaveUp != null) {
            divergences.add(new Divergence(gaveUp.frame(), 0, "replay", "the live end's answer before it",
                    "none within the time budget; the rest of the replay did not wait"));
        }
        return new Result(conversation, role, script, recorded, List.copyOf(live), List.copyOf(injected),
                divergences, target.diagnostics());
    }

    /**
     * Lets time pass until the live end has sent what packet {@code i} of the recording answers:
     * the sequence space it acknowledges, and every range the recorded side had retransmitted by
     * then (a retransmission comes from a timer or from the peer's duplicate ACKs, both of which the
     * live end has had). A live end that holds data its application wrote (Nagle's test, or a
     * smaller congestion window than the kernel's) may be waiting for this very ACK: the packet then
     * goes at once, its acknowledgment reduced to what the live end did send ({@link #translate}).
     */
    private void awaitAnswered(int i) {
        for (long waited = 0; waited < MAX_WAIT_NANOS && !answered(i); waited += waitStepNanos) {
            if (Thread.currentThread().isInterrupted() || System.nanoTime() > deadline) {
                gaveUp = conversation.packets().get(i);
                return;
            }
            if (retransmissionsMatched(i) && liveEnd < queuedEnd) {
                return;
            }
            target.pass(waitStepNanos);
            target.service(false);
            collect();
        }
    }

    private boolean answered(int i) {
        ReplayPacket p = conversation.packets().get(i);
        if (!conversation.isTcp()) {
            long before = conversation.packets().subList(0, i).stream().filter(x -> conversation.sentBy(x, role)).count();
            return liveDatagrams >= before;
        }
        if (!retransmissionsMatched(i) || liveProbes < recordedProbesBefore(i)) {
            return false;
        }
        if (!p.has(Tcp.ACK)) {
            return true;
        }
        long needed = Integer.toUnsignedLong(p.ack() - recordedIss);
        return liveSynSeen && liveEnd >= needed;
    }

    /** Keepalive and window probes the recorded side sent before packet {@code i}: the peer's answer to one waits for the live end's. */
    private int recordedProbesBefore(int i) {
        int n = 0;
        long highest = 1;
        for (ReplayPacket x : conversation.packets().subList(0, i)) {
            if (!conversation.sentBy(x, role) || x.has(Tcp.SYN)) {
                continue;
            }
            long start = Integer.toUnsignedLong(x.seq() - recordedIss);
            if (ToleranceModel.isProbe(x, start, highest)) {
                n++;
            } else {
                highest = Math.max(highest, start + x.sequenceLength());
            }
        }
        return n;
    }

    /** Whether the live end has resent the first byte of each range the recorded side resent before packet {@code i}. */
    private boolean retransmissionsMatched(int i) {
        long highest = 1;
        for (ReplayPacket x : conversation.packets().subList(0, i)) {
            if (!conversation.sentBy(x, role) || !x.isTcp() || x.has(Tcp.SYN)) {
                continue;
            }
            long start = Integer.toUnsignedLong(x.seq() - recordedIss);
            if (x.payload().length > 1 && start < highest && !liveResent.contains(start)) {
                return false;
            }
            highest = Math.max(highest, start + x.payload().length);
        }
        return true;
    }

    private void call(AppScript.Step step) throws Exception {
        queuedEnd += step.data().length;
        if (step.call() == AppScript.Call.SHUTDOWN || step.call() == AppScript.Call.CLOSE) {
            queuedEnd++;
        }
        target.call(script, step, peerPort, livePort);
        collect();
    }

    private ReplayPacket translate(ReplayPacket p) {
        if (livePort < 0) {
            return null; // the live end never opened: nothing to address the packet to
        }
        if (!p.isTcp()) {
            return p.rewritten(target.peerAddress(), target.liveAddress(), peerPort, livePort, 0, 0, p.options());
        }
        int shift = liveIss - recordedIss;
        TcpOptions o = new TcpOptions();
        TcpOptions r = p.options();
        o.mss = r.mss;
        o.windowScale = r.windowScale;
        o.sackPermitted = r.sackPermitted;
        o.hasTimestamps = r.hasTimestamps;
        o.tsVal = r.tsVal;
        o.tsEcr = r.tsEcr == 0 ? 0 : latestLiveTsVal;
        o.sackBlockCount = r.sackBlockCount;
        for (int b = 0; b < r.sackBlockCount; b++) {
            o.sackLeft[b] = r.sackLeft[b] + shift;
            o.sackRight[b] = r.sackRight[b] + shift;
        }
        int ack = p.has(Tcp.ACK) ? p.ack() + shift : p.ack();
        if (p.has(Tcp.ACK) && liveSynSeen && Integer.toUnsignedLong(ack - liveIss) > liveEnd) {
            ack = liveIss + (int) liveEnd; // the live end cut its segments elsewhere: ACK what it sent
        }
        return p.rewritten(target.peerAddress(), target.liveAddress(), peerPort, livePort, p.seq(), ack, o);
    }

    private void collect() {
        for (ReplayPacket p : target.takeSent()) {
            if (p.source() != target.liveAddress() || p.destination() != target.peerAddress()
                    || p.protocol() != conversation.protocol() || p.destinationPort() != peerPort) {
                continue;
            }
            if (livePort < 0) {
                livePort = p.sourcePort();
            }
            if (p.isTcp()) {
                if (p.has(Tcp.SYN) && !liveSynSeen) {
                    liveSynSeen = true;
                    liveIss = p.seq();
                    liveEnd = 1;
                }
                if (liveSynSeen && !p.has(Tcp.SYN)) {
                    long start = Integer.toUnsignedLong(p.seq() - liveIss);
                    if (ToleranceModel.isProbe(p, start, liveEnd)) {
                        liveProbes++;
                    }
                    if (p.payload().length > 1 && start < liveEnd) {
                        liveResent.add(start);
                    }
                    liveEnd = Math.max(liveEnd, start + p.sequenceLength());
                }
                if (p.options().hasTimestamps) {
                    latestLiveTsVal = p.options().tsVal;
                }
            } else {
                liveDatagrams++;
            }
            live.add(p.numbered(live.size() + 1));
        }
    }
}
