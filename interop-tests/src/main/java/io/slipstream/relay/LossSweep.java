package io.slipstream.relay;

import io.slipstream.testing.NetNs;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * {@code bin/slipstream losssweep}: the same transfer, kernel → kernel and Slipstream (TAP) →
 * kernel, through the same {@link ImpairmentRelay} with the same seed, at each impairment of
 * issue 13; prints a markdown table of the receiver's times and Slipstream's ratio to the
 * kernel's (the issue asks for at most 1.5× at every row). Needs root.
 *
 * <p>Options: {@code --bytes N} (default 20 MiB), {@code --seed S} (default 1), {@code --limit
 * SECONDS} a transfer may take before it counts as failed (default 300), {@code --only NAME}
 * runs the rows whose name contains NAME.
 */
public final class LossSweep {
    /** One impairment of the sweep: what the sender's frames and what the receiver's (the ACKs) meet. */
    record Row(String name, Impairment toPeer, Impairment fromPeer) {}

    static final List<Row> ROWS = List.of(
            new Row("none", Impairment.NONE, Impairment.NONE),
            new Row("1 % loss both ways", Impairment.loss(0.01), Impairment.loss(0.01)),
            new Row("5 % loss both ways", Impairment.loss(0.05), Impairment.loss(0.05)),
            new Row("20 % loss both ways", Impairment.loss(0.2), Impairment.loss(0.2)),
            new Row("20 % ACK loss only", Impairment.NONE, Impairment.loss(0.2)),
            new Row("25 % reorder + 5 % dup", reorderAndDup(), reorderAndDup()),
            new Row("1 % corruption", Impairment.NONE.withCorruption(0.01), Impairment.NONE.withCorruption(0.01)));
    private static final double ALLOWED_RATIO = 1.5;
    private static final int PORT = 5001;

    private static Impairment reorderAndDup() {
        return Impairment.NONE.withReorder(0.25, Impairment.DEFAULT_REORDER_DEPTH).withDuplication(0.05);
    }

    private LossSweep() {}

    public static void main(String[] args) throws Exception {
        int bytes = 20 * 1024 * 1024;
        long seed = 1;
        Duration limit = Duration.ofSeconds(300);
        String only = "";
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--bytes" -> bytes = Integer.parseInt(args[++i]);
                case "--seed" -> seed = Long.parseLong(args[++i]);
                case "--limit" -> limit = Duration.ofSeconds(Long.parseLong(args[++i]));
                case "--only" -> only = args[++i];
                default -> throw new IllegalArgumentException("losssweep: unknown option " + args[i]
                        + " (--bytes N, --seed S, --limit SECONDS, --only NAME)");
            }
        }
        if (!NetNs.isRoot()) {
            System.err.println("losssweep needs root: it makes network namespaces, a TAP device and AF_PACKET sockets");
            System.exit(2);
        }
        byte[] body = RelayTransfers.body(bytes, seed);
        String sha = RelayTransfers.sha256(body);
        List<String> lines = new ArrayList<>();
        try (RelayLab lab = RelayLab.create(9); SlipstreamTapSide slipstream = SlipstreamTapSide.open(lab, Map.of())) {
            Runtime.getRuntime().addShutdownHook(new Thread(lab::close));
            for (Row row : ROWS) {
                if (!row.name().contains(only)) {
                    continue;
                }
                Result kernel = kernelRun(lab, row, bytes, seed, limit);
                System.out.println(row.name() + ", kernel: " + kernel);
                Result ours = slipstreamRun(lab, slipstream, row, body, sha, seed, limit);
                System.out.println(row.name() + ", slipstream: " + ours);
                lines.add(tableLine(row, kernel, ours));
            }
        }
        System.out.printf(Locale.ROOT, "%n%d bytes per transfer, seed %d, through the impairment relay%n%n", bytes, seed);
        System.out.println("| impairment (sender's frames / ACKs) | kernel → kernel | Slipstream → kernel | ratio | ≤ 1.5× |");
        System.out.println("|---|---|---|---|---|");
        lines.forEach(System.out::println);
    }

    /** How a run ended and what the relay counted. */
    record Result(boolean ok, String outcome, double seconds, String relay) {
        @Override
        public String toString() {
            return String.format(Locale.ROOT, "%s in %.2f s; %s", outcome, seconds, relay);
        }
    }

    private static Result kernelRun(RelayLab lab, Row row, int bytes, long seed, Duration limit) throws Exception {
        try (ImpairmentRelay relay = lab.relayKernelSide(row.toPeer(), row.fromPeer(), seed);
             NetNs.Background server = RelayTransfers.kernelServer(lab.kernelSide(), lab.kernelSideAddress(), PORT,
                     bytes, seed, Duration.ofSeconds(20))) {
            RelayTransfers.Received r = RelayTransfers.receive(lab.peer(), lab.kernelSideAddress(), PORT, limit, limit);
            NetNs.Result sent = server.await(Duration.ofSeconds(20));
            boolean intact = sent.ok() && r.bytes() == bytes && sent.stdout().lines().toList().getLast().equals(r.sha256());
            return result(r, intact, relay);
        }
    }

    private static Result slipstreamRun(RelayLab lab, SlipstreamTapSide slipstream, Row row, byte[] body, String sha,
                                        long seed, Duration limit) throws Exception {
        try (ImpairmentRelay relay = lab.relayTap(slipstream.device(), row.toPeer(), row.fromPeer(), seed)) {
            CompletableFuture<Void> served = slipstream.serveOnce(PORT, body);
            RelayTransfers.Received r = RelayTransfers.receive(lab.peer(), lab.slipstreamAddress(), PORT, limit, limit);
            boolean intact = r.bytes() == body.length && r.sha256().equals(sha);
            try {
                served.get(20, TimeUnit.SECONDS);
            } catch (Exception e) {
                intact = false;
            }
            return result(r, intact, relay);
        }
    }

    private static Result result(RelayTransfers.Received r, boolean intact, ImpairmentRelay relay) {
        String outcome = r.ok() && !intact ? "damaged" : r.outcome();
        return new Result(r.ok() && intact, outcome, r.elapsedNs() / 1e9, relay.describe());
    }

    private static String tableLine(Row row, Result kernel, Result ours) {
        String ratio = kernel.ok() && ours.ok() ? String.format(Locale.ROOT, "%.2f×", ours.seconds() / kernel.seconds()) : "–";
        String within = kernel.ok() && ours.ok() ? (ours.seconds() <= ALLOWED_RATIO * kernel.seconds() ? "yes" : "**no**") : "**no**";
        return String.format(Locale.ROOT, "| %s | %s | %s | %s | %s |", row.name(), cell(kernel), cell(ours), ratio, within);
    }

    private static String cell(Result r) {
        return r.ok() ? String.format(Locale.ROOT, "%.2f s", r.seconds()) : r.outcome() + String.format(Locale.ROOT, " (%.0f s)", r.seconds());
    }
}
