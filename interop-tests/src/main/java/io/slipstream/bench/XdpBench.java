package io.slipstream.bench;

import static io.slipstream.bench.BenchTables.failedRow;
import static io.slipstream.bench.BenchTables.notMeasured;
import static io.slipstream.bench.BenchTables.ratio;
import static io.slipstream.bench.BenchTables.target;

import io.slipstream.bench.NamespacePrograms.Side;
import io.slipstream.testing.NetNs;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;

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
    /** The time a case may take beyond its own work, for its JVMs to start and end. */
    private static final Duration SLACK = Duration.ofSeconds(60);
    /** The sandbox's /24 (198.18.0.0/15, the benchmarking range). */
    static final String SUBNET = "198.18.77.";
    private static final String USAGE = "bin/slipstream xdpbench [--rounds N] [--warmup N] [--seconds S]";
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

    /** One case: which side runs where, and how its program waits. */
    record Case(String id, String label, Side client, Side server, boolean spinning) {}

    /** Everything a run produced, and the names of the namespaces it made. */
    public record Report(List<Outcome> pingPong, List<Outcome> bulk, List<String> namespaces) {
        public boolean ok() {
            return pingPong.stream().allMatch(Outcome::ok) && bulk.stream().allMatch(Outcome::ok);
        }

        Outcome pingPong(String id) {
            return Outcome.find(pingPong, id);
        }

        Outcome bulk(String id) {
            return Outcome.find(bulk, id);
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
    private final NamespacePrograms programs;
    private final VethNamespaces net;
    private int nextPort = FIRST_PORT;

    private XdpBench(Options options, NamespacePrograms programs) {
        this.options = options;
        this.programs = programs;
        this.net = programs.net();
    }

    /** Usage: {@link #USAGE}; needs root. */
    public static void main(String[] args) {
        BenchArgs parsed = new BenchArgs("xdpbench", USAGE, Set.of("--rounds", "--warmup", "--seconds"), args);
        int rounds = parsed.get("--rounds", 100_000);
        // 8 s: long enough that the JIT is done before the measured four fifths
        Options options = new Options(rounds, parsed.get("--warmup", Math.max(1, rounds / 5)), parsed.get("--seconds", 8),
                parsed.launcher(), System.getProperty("java.class.path"),
                Path.of(System.getProperty("java.home"), "bin", "java"));
        Report report = run(options);
        BenchArgs.exit(tables(report, options), report.ok());
    }

    /** Makes the sandbox, runs every case in it, removes it; prints each result as it comes. */
    public static Report run(Options options) {
        if (!NetNs.isRoot()) {
            throw new IllegalStateException("xdpbench needs root: it makes network namespaces and loads XDP programs");
        }
        return VethNamespaces.using("xdpbench", SUBNET, net -> {
            System.out.printf("xdpbench: %s (%s) ↔ %s (%s), veth, %d round trips after %d warm-up, bulk %d s%n",
                    net.a().cidr(), net.a().ns().name(), net.b().cidr(), net.b().ns().name(), options.rounds(),
                    options.warmup(), options.bulkSeconds());
            return new XdpBench(options, new NamespacePrograms(net, options.launcher(), options.classPath(),
                    options.java())).runAll();
        });
    }

    private Report runAll() {
        List<Outcome> pingPong = new ArrayList<>();
        List<Outcome> bulk = new ArrayList<>();
        Report report = new Report(pingPong, bulk, List.of(net.a().ns().name(), net.b().ns().name()));
        if (programs.runEach(PING_PONG, this::pingPong, pingPong)
                && programs.runEach(List.of(FLOOR_ID), id -> floor(), pingPong)) {
            programs.runEach(BULK, this::bulk, bulk);
        }
        return report;
    }

    private Outcome pingPong(Case c) {
        String rounds = Integer.toString(options.rounds());
        String warmup = Integer.toString(options.warmup());
        String mode = c.spinning() ? "spinning" : "blocking";
        String timeout = Long.toString(options.pingPongTimeout().toSeconds());
        String port = Integer.toString(nextPort++);
        return programs.exchange(c.id(), c.label(),
                programs.program(c.server(), net.b(), NioPeer.class, "pingpong-server", net.b().address(), port, mode, rounds,
                        warmup, timeout),
                programs.program(c.client(), net.a(), NioPeer.class, "pingpong-client", net.b().address(), port, mode, rounds,
                        warmup, timeout),
                options.pingPongTimeout());
    }

    private Outcome floor() {
        String timeout = Long.toString(options.pingPongTimeout().toSeconds());
        String port = Integer.toString(nextPort++);
        return programs.exchange(FLOOR_ID, FLOOR_LABEL,
                programs.program(Side.KERNEL, net.b(), XdpFloor.class, "echo", net.b().device(), net.b().address(), port,
                        Integer.toString(options.rounds() + options.warmup()), timeout),
                programs.program(Side.KERNEL, net.a(), XdpFloor.class, "ping", net.a().device(), net.a().address(), port,
                        net.b().address(), net.b().mac(), Integer.toString(options.rounds()),
                        Integer.toString(options.warmup()), timeout),
                options.pingPongTimeout());
    }

    private Outcome bulk(Case c) {
        String timeout = Long.toString(options.bulkTimeout().toSeconds());
        String port = Integer.toString(nextPort++);
        return programs.exchange(c.id(), c.label(),
                programs.program(c.server(), net.b(), NioPeer.class, "bulk-server", net.b().address(), port,
                        Integer.toString(options.bulkSeconds()), timeout),
                programs.program(c.client(), net.a(), NioPeer.class, "bulk-client", net.b().address(), port,
                        Integer.toString(options.bulkSeconds()), timeout),
                options.bulkTimeout());
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
                md.append(failedRow(o, 5));
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
                md.append(failedRow(o, 3));
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

}
