package io.slipstream.bench;

import io.slipstream.testing.NetNs;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * {@code bin/slipstream xdpbench}: the AF_XDP comparison, all on one veth pair in one run
 * (docs/BENCHMARKS.md, "AF_XDP on a veth pair"). The sandbox is {@link VethNamespaces}; every
 * case runs one process in each namespace ({@code ip netns exec}):
 *
 * <ul>
 *   <li>(a) kernel ↔ kernel: {@link NioPeer} on both sides, blocking, then spinning (the
 *       reference every ratio is taken against);
 *   <li>(b) Slipstream(xdp) ↔ kernel: the client's {@link NioPeer} started through
 *       {@code bin/slipstream run --driver xdp}, exactly as a user's program;
 *   <li>(c) Slipstream(xdp) ↔ Slipstream(xdp): both sides so, spinning, then blocking;
 *   <li>(d) the floor: {@link XdpFloor}, raw 64-byte frames echoed by the driver alone.
 * </ul>
 *
 * then bulk throughput for (a), (b) (Slipstream writing) and (c). It prints each result as it
 * comes, then markdown tables for docs/BENCHMARKS.md and the targets, each marked met or
 * not. A case that fails is reported as such and the others still run; the exit status is then 1.
 * The sandbox is removed at the end, on failure, and on Ctrl-C (a shutdown hook).
 */
public final class XdpBench {
    /** How long a side may take to start listening (a JVM, and on Slipstream the stack and its XDP program). */
    private static final Duration START = Duration.ofSeconds(60);
    /** The time a case may take beyond its own work, for its JVMs to start and end. */
    private static final Duration SLACK = Duration.ofSeconds(60);
    /** How long a server may take to print its result and exit once its client is done. */
    private static final Duration EXIT_GRACE = Duration.ofSeconds(10);
    /** Each case listens on a port of its own from here on. */
    private static final int FIRST_PORT = 5201;
    /** Below this a round trip's or block's heap figure is a one-off spread thin, not per packet (one object is 16 B). */
    static final double ZERO_ALLOCATION_BYTES = 1.0;

    /** What a run measures and where it finds the programs. */
    public record Options(int rounds, int warmup, int bulkSeconds, Path launcher, String classPath, Path java) {
        /**
         * Bounds the run: a ping-pong case may take 1 ms a round trip, plus its JVMs' start. Two
         * spinning sides on a 2-core host that is busy with other work can share one core, and
         * then each round trip waits for the scheduler.
         */
        Duration pingPongTimeout() {
            return SLACK.plusNanos((rounds + (long) warmup) * 1_000_000L);
        }

        Duration bulkTimeout() {
            return SLACK.plusSeconds(bulkSeconds);
        }
    }

    enum Side { KERNEL, XDP }

    /** One case: which side runs where, and how its program waits. */
    record Case(String id, String label, Side client, Side server, boolean spinning) {}

    /** A case's outcome: the client's and server's {@code result} values, or why there are none. */
    public record Outcome(String id, String label, Map<String, String> client, Map<String, String> server,
                          String failure) {
        public boolean ok() {
            return failure == null;
        }

        double value(String key) {
            return Double.parseDouble(client.get(key));
        }
    }

    /** Everything a run produced, and the names of the namespaces it made. */
    public record Report(List<Outcome> pingPong, List<Outcome> bulk, List<String> namespaces) {
        public boolean ok() {
            return pingPong.stream().allMatch(Outcome::ok) && bulk.stream().allMatch(Outcome::ok);
        }

        Outcome pingPong(String id) {
            return pingPong.stream().filter(o -> o.id().equals(id)).findFirst().orElse(failed(id, "(" + id + ")", "not run"));
        }

        Outcome bulk(String id) {
            return bulk.stream().filter(o -> o.id().equals(id)).findFirst().orElse(failed(id, "(" + id + ")", "not run"));
        }
    }

    static final List<Case> PING_PONG = List.of(
            new Case("a-blocking", "(a) kernel ↔ kernel, blocking", Side.KERNEL, Side.KERNEL, false),
            new Case("a-spinning", "(a) kernel ↔ kernel, spinning", Side.KERNEL, Side.KERNEL, true),
            new Case("b", "(b) Slipstream(xdp) ↔ kernel, spinning", Side.XDP, Side.KERNEL, true),
            new Case("c", "(c) Slipstream(xdp) ↔ Slipstream(xdp), spinning", Side.XDP, Side.XDP, true),
            new Case("c-blocking", "(c) Slipstream(xdp) ↔ Slipstream(xdp), blocking", Side.XDP, Side.XDP, false));
    static final String FLOOR_ID = "d";
    static final String FLOOR_LABEL = "(d) floor: raw 64-byte frames over AF_XDP, no stack";
    static final List<Case> BULK = List.of(
            new Case("a", "(a) kernel → kernel", Side.KERNEL, Side.KERNEL, false),
            new Case("b", "(b) Slipstream(xdp) → kernel", Side.XDP, Side.KERNEL, false),
            new Case("c", "(c) Slipstream(xdp) → Slipstream(xdp)", Side.XDP, Side.XDP, false));

    private final Options options;
    private final VethNamespaces net;
    private int nextPort = FIRST_PORT;

    private XdpBench(Options options, VethNamespaces net) {
        this.options = options;
        this.net = net;
    }

    /** Usage: {@code XdpBench [--rounds N] [--warmup N] [--seconds S]}; needs root. */
    public static void main(String[] args) {
        int rounds = 100_000;
        int warmup = -1;
        int seconds = 8; // long enough that the JIT is done before the measured four fifths
        for (int i = 0; i < args.length; i++) {
            String value = i + 1 < args.length ? args[i + 1] : null;
            switch (args[i]) {
                case "--rounds" -> rounds = positive("--rounds", value);
                case "--warmup" -> warmup = positive("--warmup", value);
                case "--seconds" -> seconds = positive("--seconds", value);
                default -> usage("unknown option " + args[i]);
            }
            i++;
        }
        String launcher = System.getProperty("xdpbench.launcher");
        if (launcher == null) {
            usage("xdpbench.launcher (the path of bin/slipstream) is not set");
        }
        Options options = new Options(rounds, warmup < 0 ? Math.max(1, rounds / 5) : warmup, seconds, Path.of(launcher),
                System.getProperty("java.class.path"), Path.of(System.getProperty("java.home"), "bin", "java"));
        Report report = run(options);
        System.out.println();
        System.out.print(tables(report, options));
        System.exit(report.ok() ? 0 : 1);
    }

    private static int positive(String option, String value) {
        try {
            int n = Integer.parseInt(value == null ? "" : value);
            if (n > 0) {
                return n;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        usage(option + " needs a positive number, got " + value);
        return 0;
    }

    private static void usage(String problem) {
        System.err.println("xdpbench: " + problem
                + "\nusage: bin/slipstream xdpbench [--rounds N] [--warmup N] [--seconds S]");
        System.exit(2);
    }

    /** Makes the sandbox, runs every case in it, removes it; prints each result as it comes. */
    public static Report run(Options options) {
        if (!NetNs.isRoot()) {
            throw new IllegalStateException("xdpbench needs root: it makes network namespaces and loads XDP programs");
        }
        VethNamespaces net = VethNamespaces.create();
        Thread cleanup = new Thread(net::close, "xdpbench-cleanup");
        Runtime.getRuntime().addShutdownHook(cleanup);
        try {
            System.out.printf("xdpbench: %s (%s) ↔ %s (%s), veth, %d round trips after %d warm-up, bulk %d s%n",
                    net.a().cidr(), net.a().ns().name(), net.b().cidr(), net.b().ns().name(), options.rounds(),
                    options.warmup(), options.bulkSeconds());
            return new XdpBench(options, net).runAll();
        } finally {
            net.close();
            try {
                Runtime.getRuntime().removeShutdownHook(cleanup);
            } catch (IllegalStateException shuttingDown) {
                // the hook runs anyway, and close is idempotent
            }
        }
    }

    private Report runAll() {
        List<Outcome> pingPong = new ArrayList<>();
        List<Outcome> bulk = new ArrayList<>();
        Report report = new Report(pingPong, bulk, List.of(net.a().ns().name(), net.b().ns().name()));
        for (Case c : PING_PONG) {
            if (net.closed()) {
                return report; // Ctrl-C: the shutdown hook has removed the sandbox
            }
            pingPong.add(printed(pingPong(c)));
        }
        if (!net.closed()) {
            pingPong.add(printed(floor()));
        }
        for (Case c : BULK) {
            if (net.closed()) {
                return report;
            }
            bulk.add(printed(bulk(c)));
        }
        return report;
    }

    private Outcome pingPong(Case c) {
        String rounds = Integer.toString(options.rounds());
        String warmup = Integer.toString(options.warmup());
        String mode = c.spinning() ? "spinning" : "blocking";
        String timeout = Long.toString(options.pingPongTimeout().toSeconds());
        String port = Integer.toString(nextPort++);
        return exchange(c.id(), c.label(),
                program(c.server(), net.b(), NioPeer.class, "pingpong-server", net.b().address(), port, mode, rounds,
                        warmup, timeout),
                program(c.client(), net.a(), NioPeer.class, "pingpong-client", net.b().address(), port, mode, rounds,
                        warmup, timeout),
                options.pingPongTimeout());
    }

    private Outcome floor() {
        String timeout = Long.toString(options.pingPongTimeout().toSeconds());
        String port = Integer.toString(nextPort++);
        return exchange(FLOOR_ID, FLOOR_LABEL,
                program(Side.KERNEL, net.b(), XdpFloor.class, "echo", net.b().device(), net.b().address(), port,
                        Integer.toString(options.rounds() + options.warmup()), timeout),
                program(Side.KERNEL, net.a(), XdpFloor.class, "ping", net.a().device(), net.a().address(), port,
                        net.b().address(), net.b().mac(), Integer.toString(options.rounds()),
                        Integer.toString(options.warmup()), timeout),
                options.pingPongTimeout());
    }

    private Outcome bulk(Case c) {
        String timeout = Long.toString(options.bulkTimeout().toSeconds());
        String port = Integer.toString(nextPort++);
        return exchange(c.id(), c.label(),
                program(c.server(), net.b(), NioPeer.class, "bulk-server", net.b().address(), port,
                        Integer.toString(options.bulkSeconds()), timeout),
                program(c.client(), net.a(), NioPeer.class, "bulk-client", net.b().address(), port,
                        Integer.toString(options.bulkSeconds()), timeout),
                options.bulkTimeout());
    }

    /**
     * A program's command line in an end's namespace: plain java on the kernel; on Slipstream
     * the same program through {@code bin/slipstream run} with the driver on the end's device and
     * nothing else, as a user runs it (the stack takes the kernel's address on it). The floor's
     * program opens the driver itself and runs as plain java.
     */
    private String[] program(Side side, VethNamespaces.End end, Class<?> main, String... args) {
        List<String> command = new ArrayList<>();
        if (side == Side.XDP) {
            // The jars were built before this run: the launcher must not build again.
            command.addAll(List.of("env", "SLIPSTREAM_NO_BUILD=1", options.launcher().toString(), "run",
                    "--driver", "xdp", "--interface", end.device(), "--"));
        }
        command.addAll(List.of(options.java().toString(), "--enable-native-access=ALL-UNNAMED", "-cp",
                options.classPath(), main.getName()));
        command.addAll(List.of(args));
        return command.toArray(String[]::new);
    }

    /** Starts the server in b, waits until it listens, runs the client in a, and reads both results. */
    private Outcome exchange(String id, String label, String[] server, String[] client, Duration timeout) {
        try (NetNs.Background serving = net.b().ns().start(server)) {
            String notListening = awaitListening(serving);
            if (notListening != null) {
                return failed(id, label, "the server side did not start: " + notListening);
            }
            NetNs.Result clientDone = net.a().ns().exec(timeout, client);
            Map<String, String> clientResult = result(clientDone.stdout());
            if (!clientDone.ok() || clientResult == null) {
                // Its peer is gone: the server would only wait for its watchdog.
                return failed(id, label, "client: " + (clientDone.timedOut() ? "no end within the case's bound of "
                        + timeout.toSeconds() + " s, " + tail(clientDone.stdout() + clientDone.stderr()) : summary(clientDone))
                        + "; server: " + tail(serving.output()));
            }
            NetNs.Result serverDone = serving.await(EXIT_GRACE);
            Map<String, String> serverResult = result(serverDone.stdout());
            if (serverResult == null) {
                return failed(id, label, "server: " + summary(serverDone));
            }
            if (!serverDone.ok()) {
                // Measured all the same; how the program ended is a finding of its own.
                System.out.printf("%-52s warning: the server printed its result, then %s%n", label, serverDone.timedOut()
                        ? "had not exited " + EXIT_GRACE.toSeconds() + " s after its client (killed)"
                        : "exited with status " + serverDone.exitCode() + ": " + tail(serverDone.stderr()));
            }
            return new Outcome(id, label, clientResult, serverResult, null);
        }
    }

    /** Null once the server printed "listening"; else what it printed before it ended or the time ran out. */
    private static String awaitListening(NetNs.Background server) {
        long deadline = System.nanoTime() + START.toNanos();
        while (!server.output().lines().anyMatch("listening"::equals)) {
            if (!server.isAlive()) {
                return "it ended: " + tail(server.output());
            }
            if (System.nanoTime() - deadline > 0) {
                return "not listening after " + START.toSeconds() + " s: " + tail(server.output());
            }
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return "interrupted";
            }
        }
        return null;
    }

    /** The key=value pairs of the {@code result} line, with the line's kind under "kind"; null if none. */
    static Map<String, String> result(String stdout) {
        return stdout.lines().filter(l -> l.startsWith("result ")).findFirst().map(line -> {
            String[] words = line.split(" ");
            Map<String, String> values = new LinkedHashMap<>();
            values.put("kind", words[1]);
            for (int i = 2; i < words.length; i++) {
                int eq = words[i].indexOf('=');
                values.put(words[i].substring(0, eq), words[i].substring(eq + 1));
            }
            return values;
        }).orElse(null);
    }

    private static String summary(NetNs.Result r) {
        return (r.timedOut() ? "timed out" : "exit " + r.exitCode()) + ", " + tail(r.stdout() + r.stderr());
    }

    /** The last lines a program printed, stack frames left out: its exception or its own message. */
    private static String tail(String output) {
        List<String> lines = output.strip().lines().filter(l -> !l.strip().startsWith("at ")).toList();
        return String.join(" | ", lines.subList(Math.max(0, lines.size() - 4), lines.size()));
    }

    private static Outcome failed(String id, String label, String why) {
        return new Outcome(id, label, Map.of(), Map.of(), why);
    }

    private static Outcome printed(Outcome o) {
        if (!o.ok()) {
            System.out.printf("%-52s FAILED: %s%n", o.label(), o.failure());
        } else if (o.client().get("kind").equals("pingpong")) {
            System.out.printf(Locale.ROOT, "%-52s RTT p50 %s µs, p90 %s µs, p99 %s µs, p99.9 %s µs, max %s µs;"
                    + " heap per round trip %s B client, %s B server%n", o.label(), o.client().get("p50_us"),
                    o.client().get("p90_us"), o.client().get("p99_us"), o.client().get("p999_us"),
                    o.client().get("max_us"), o.client().get("alloc_b_per_rt"), o.server().get("alloc_b_per_rt"));
        } else {
            System.out.printf(Locale.ROOT, "%-52s %s Gbit/s (%s MB in %s s); heap per 64 KiB block %s B writer,"
                    + " %s B reader%n", o.label(), o.client().get("gbit_per_s"), o.client().get("mbytes"),
                    o.client().get("seconds"), o.client().get("alloc_b_per_block"), o.server().get("alloc_b_per_block"));
        }
        System.out.flush();
        return o;
    }

    /** The results as markdown, for docs/BENCHMARKS.md: latency, bulk, and the targets. */
    static String tables(Report report, Options options) {
        StringBuilder md = new StringBuilder();
        md.append(String.format(Locale.ROOT, "64-byte TCP ping-pong, %d round trips after %d warm-up; ratios against"
                + " (a) spinning in the same run (lower is faster):%n%n", options.rounds(), options.warmup()));
        md.append("| case | p50 | p99 | p50 ratio | p99 ratio | heap per round trip (client / server) |\n");
        md.append("|---|---|---|---|---|---|\n");
        Outcome kernel = report.pingPong("a-spinning");
        for (Outcome o : report.pingPong()) {
            if (!o.ok()) {
                md.append("| ").append(o.label()).append(" | failed | | | | |\n");
                continue;
            }
            md.append(String.format(Locale.ROOT, "| %s | %.2f µs | %.2f µs | %s | %s | %s / %s B |%n", o.label(),
                    o.value("p50_us"), o.value("p99_us"), ratio(o, kernel, "p50_us"), ratio(o, kernel, "p99_us"),
                    o.client().get("alloc_b_per_rt"), o.server().get("alloc_b_per_rt")));
        }
        md.append(String.format(Locale.ROOT, "%nBulk: 64 KiB blocking writes for %d s, read and checked on the other"
                + " side; ratios against (a) (higher is faster):%n%n", options.bulkSeconds()));
        md.append("| case | throughput | ratio | heap per 64 KiB block (writer / reader) |\n");
        md.append("|---|---|---|---|\n");
        Outcome kernelBulk = report.bulk("a");
        for (Outcome o : report.bulk()) {
            if (!o.ok()) {
                md.append("| ").append(o.label()).append(" | failed | | |\n");
                continue;
            }
            md.append(String.format(Locale.ROOT, "| %s | %.2f Gbit/s | %s | %s / %s B |%n", o.label(),
                    o.value("gbit_per_s"), ratio(o, kernelBulk, "gbit_per_s"), o.client().get("alloc_b_per_block"),
                    o.server().get("alloc_b_per_block")));
        }
        md.append("\nTargets ((c) spinning):\n\n| target | measured | met |\n|---|---|---|\n");
        Outcome c = report.pingPong("c");
        Outcome floor = report.pingPong(FLOOR_ID);
        Outcome cBulk = report.bulk("c");
        String p50Floor = "(c) p50 ≤ 2 × the floor (d)";
        String p50Kernel = "(c) p50 ≥ 1.8× faster than (a) spinning";
        String p99Kernel = "(c) p99 no worse than (a) spinning";
        String bulk = "(c) bulk ≥ (a) bulk";
        if (c.ok() && floor.ok()) {
            double x = c.value("p50_us") / floor.value("p50_us");
            md.append(target(p50Floor, String.format(Locale.ROOT, "(c) / (d) = %.2f", x), x <= 2));
        } else {
            md.append(notMeasured(p50Floor, c, floor));
        }
        if (c.ok() && kernel.ok()) {
            double speedUp = kernel.value("p50_us") / c.value("p50_us");
            md.append(target(p50Kernel, String.format(Locale.ROOT, "(a) / (c) = %.2f×", speedUp), speedUp >= 1.8));
            double p99 = c.value("p99_us") / kernel.value("p99_us");
            md.append(target(p99Kernel, String.format(Locale.ROOT, "(c) / (a) = %.2f", p99), p99 <= 1));
        } else {
            md.append(notMeasured(p50Kernel, c, kernel)).append(notMeasured(p99Kernel, c, kernel));
        }
        if (cBulk.ok() && kernelBulk.ok()) {
            double x = cBulk.value("gbit_per_s") / kernelBulk.value("gbit_per_s");
            md.append(target(bulk, String.format(Locale.ROOT, "(c) / (a) = %.2f", x), x >= 1));
        } else {
            md.append(notMeasured(bulk, cBulk, kernelBulk));
        }
        md.append(allocationTarget(report));
        return md.toString();
    }

    /** Zero allocation per packet on the Slipstream cases: under a byte per round trip and per 64 KiB block. */
    private static String allocationTarget(Report report) {
        String what = "no heap allocation per packet on Slipstream ((b), (c))";
        double most = 0;
        int measured = 0;
        for (Outcome o : report.pingPong()) {
            if (o.ok() && (o.id().startsWith("b") || o.id().startsWith("c"))) {
                most = Math.max(most, Math.max(o.value("alloc_b_per_rt"), Double.parseDouble(o.server().get("alloc_b_per_rt"))));
                measured++;
            }
        }
        for (Outcome o : report.bulk()) {
            if (o.ok() && !o.id().equals("a")) {
                most = Math.max(most, Math.max(o.value("alloc_b_per_block"),
                        Double.parseDouble(o.server().get("alloc_b_per_block"))));
                measured++;
            }
        }
        if (measured == 0) {
            return target(what, "not measured: no case of (b) or (c) produced a result", false);
        }
        return target(what,
                String.format(Locale.ROOT, "at most %.2f B per round trip or block, either side", most),
                most < ZERO_ALLOCATION_BYTES);
    }

    /** A target whose cases did not both produce a result: not met, and which one failed. */
    private static String notMeasured(String what, Outcome... needed) {
        List<String> failed = new ArrayList<>();
        for (Outcome o : needed) {
            if (!o.ok()) {
                failed.add(o.label() + " failed");
            }
        }
        return target(what, "not measured: " + String.join(", ", failed), false);
    }

    private static String target(String what, String measured, boolean met) {
        return "| " + what + " | " + measured + " | " + (met ? "yes" : "**no**") + " |\n";
    }

    private static String ratio(Outcome o, Outcome reference, String key) {
        return reference.ok() ? String.format(Locale.ROOT, "%.2f", o.value(key) / reference.value(key)) : "n/a";
    }
}
