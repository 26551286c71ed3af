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
import java.util.function.DoublePredicate;

/**
 * {@code bin/slipstream serverbench}: servers as users write them, on the kernel and on each
 * driver, bound to the wildcard and to the address, in one run on one veth pair
 * (docs/BENCHMARKS.md, "Servers on the wildcard"). The sandbox is {@link VethNamespaces} (its
 * own /24); the server runs in b, on the kernel or through {@code bin/slipstream run}, the
 * client on the kernel in a. Two benchmarks, each over the same five cases ({@link #CASES}):
 *
 * <ul>
 *   <li>64-byte ping-pong: {@link SelectorEcho} (NioPeer {@code select-echo-server}) against a
 *       spinning {@link NioPeer} client: p50/p99 of the round trip;
 *   <li>HTTP: the JDK's unmodified {@code HttpServer} ({@link HttpPeer}) against {@code wrk}
 *       for a fixed time: requests per second and wrk's latency p50/p99.
 * </ul>
 *
 * On xdp the wildcard-bound server's listener is the kernel's and the stack's, so its selector
 * holds kernel and stack keys (a mixed selector); bound to the address, stack keys only. The
 * packet driver's stack has an address of its own ({@link VethNamespaces.End#ownStackAddress()}),
 * which the client connects to in both of its cases. Every ratio is against the kernel server
 * in the same run. It prints each result as it comes, then markdown tables with the issue's
 * targets marked met or not; a failed case is shown as such, the others still run, and the exit
 * status is then 1.
 */
public final class ServerBench {
    /** The sandbox's /24 (198.18.0.0/15, the benchmarking range; xdpbench has another). */
    static final String SUBNET = "198.19.50.";
    static final String WILDCARD = "0.0.0.0";
    private static final String USAGE = "bin/slipstream serverbench [--rounds N] [--warmup N] [--seconds S]"
            + " [--connections N]";
    /** The time a case may take beyond its own work, for its JVMs to start and end. */
    private static final Duration SLACK = Duration.ofSeconds(60);
    /**
     * A round trip's share of a ping-pong case's bound: the packet driver hands a lone frame
     * over when its block retires (1 ms, rounded up to the kernel's tick), and a busy 2-core
     * host adds the scheduler's waits.
     */
    private static final long ROUND_TRIP_BOUND_NS = 10_000_000L;
    /** Each case listens on a port of its own from here on. */
    private static final int FIRST_PORT = 5301;
    /** The bound on the wildcard-bound (mixed selector) p50 over the address-bound (pure-stack) one. */
    static final double MIXED_OVER_PURE_MAX = 1.2;

    /** What a run measures and where it finds the programs. */
    public record Options(int rounds, int warmup, int httpSeconds, int connections, Path launcher, String classPath,
                          Path java) {
        Duration pingPongTimeout() {
            return SLACK.plusNanos((rounds + (long) warmup) * ROUND_TRIP_BOUND_NS);
        }

        Duration httpTimeout() {
            return SLACK.plusSeconds(httpSeconds);
        }
    }

    /** One server: the driver it runs on and whether it binds to the wildcard or to its address. */
    record Case(String id, String label, Side server, boolean wildcard) {}

    static final List<Case> CASES = List.of(
            new Case("kernel", "kernel, wildcard", Side.KERNEL, true),
            new Case("xdp-address", "Slipstream(xdp), address (pure-stack selector)", Side.XDP, false),
            new Case("xdp-wildcard", "Slipstream(xdp), wildcard (mixed selector)", Side.XDP, true),
            new Case("packet-address", "Slipstream(packet), own address (pure-stack selector)", Side.PACKET, false),
            new Case("packet-wildcard", "Slipstream(packet), wildcard (mixed selector)", Side.PACKET, true));

    /** Everything a run produced, and the names of the namespaces it made. */
    public record Report(List<Outcome> pingPong, List<Outcome> http, List<String> namespaces) {
        public boolean ok() {
            return pingPong.stream().allMatch(Outcome::ok) && http.stream().allMatch(Outcome::ok);
        }
    }

    private final Options options;
    private final NamespacePrograms programs;
    private final VethNamespaces net;
    private int nextPort = FIRST_PORT;

    private ServerBench(Options options, NamespacePrograms programs) {
        this.options = options;
        this.programs = programs;
        this.net = programs.net();
    }

    /** Usage: {@link #USAGE}; needs root. */
    public static void main(String[] args) {
        BenchArgs parsed = new BenchArgs("serverbench", USAGE,
                Set.of("--rounds", "--warmup", "--seconds", "--connections"), args);
        int rounds = parsed.get("--rounds", 20_000);
        Options options = new Options(rounds, parsed.get("--warmup", Math.max(1, rounds / 5)),
                parsed.get("--seconds", 5), parsed.get("--connections", 8), parsed.launcher(),
                System.getProperty("java.class.path"), Path.of(System.getProperty("java.home"), "bin", "java"));
        Report report = run(options);
        BenchArgs.exit(tables(report, options), report.ok());
    }

    /** Makes the sandbox, runs every case in it, removes it; prints each result as it comes. */
    public static Report run(Options options) {
        if (!NetNs.isRoot()) {
            throw new IllegalStateException("serverbench needs root: it makes network namespaces and loads XDP programs");
        }
        return VethNamespaces.using("serverbench", SUBNET, net -> {
            System.out.printf("serverbench: client %s (%s) on the kernel, server %s / %s (%s), veth; %d round trips"
                    + " after %d warm-up; wrk %d s, %d connections%n", net.a().cidr(), net.a().ns().name(),
                    net.b().cidr(), net.b().ownStackCidr(), net.b().ns().name(), options.rounds(), options.warmup(),
                    options.httpSeconds(), options.connections());
            return new ServerBench(options, new NamespacePrograms(net, options.launcher(), options.classPath(),
                    options.java())).runAll();
        });
    }

    private Report runAll() {
        List<Outcome> pingPong = new ArrayList<>();
        List<Outcome> http = new ArrayList<>();
        Report report = new Report(pingPong, http, List.of(net.a().ns().name(), net.b().ns().name()));
        if (programs.runEach(CASES, this::pingPong, pingPong)) {
            programs.runEach(CASES, this::http, http);
        }
        return report;
    }

    /** The address the client connects to: the stack's own on packet, the kernel's (shared with xdp) otherwise. */
    private String serverAddress(Case c) {
        return c.server() == Side.PACKET ? net.b().ownStackAddress() : net.b().address();
    }

    private String bindAddress(Case c) {
        return c.wildcard() ? WILDCARD : serverAddress(c);
    }

    private Outcome pingPong(Case c) {
        String rounds = Integer.toString(options.rounds());
        String warmup = Integer.toString(options.warmup());
        String timeout = Long.toString(options.pingPongTimeout().toSeconds());
        String port = Integer.toString(nextPort++);
        return programs.exchange(c.id(), "ping-pong: " + c.label(),
                programs.program(c.server(), net.b(), NioPeer.class, "select-echo-server", bindAddress(c), port,
                        rounds, warmup, timeout),
                programs.program(Side.KERNEL, net.a(), NioPeer.class, "pingpong-client", serverAddress(c), port,
                        "spinning", rounds, warmup, timeout),
                options.pingPongTimeout());
    }

    private Outcome http(Case c) {
        String timeout = Long.toString(options.httpTimeout().toSeconds());
        String port = Integer.toString(nextPort++);
        return programs.exchange(c.id(), "HTTP: " + c.label(),
                programs.program(c.server(), net.b(), HttpPeer.class, "serve", bindAddress(c), port, timeout),
                programs.program(Side.KERNEL, net.a(), HttpPeer.class, "load",
                        "http://" + serverAddress(c) + ":" + port + "/", Integer.toString(options.httpSeconds()),
                        Integer.toString(options.connections()), timeout),
                options.httpTimeout());
    }

    /** The results as markdown, for docs/BENCHMARKS.md: ping-pong, HTTP, and the targets. */
    static String tables(Report report, Options options) {
        StringBuilder md = new StringBuilder();
        md.append(String.format(Locale.ROOT, "64-byte TCP ping-pong against a selector-driven NIO echo server,"
                + " client spinning on the kernel, %d round trips after %d warm-up; ratios against the kernel server"
                + " in the same run (lower is faster):%n%n", options.rounds(), options.warmup()));
        md.append("| server | p50 | p99 | p50 / kernel | p99 / kernel | p50 wildcard / address | server heap per round trip |\n");
        md.append("|---|---|---|---|---|---|---|\n");
        Outcome kernel = Outcome.find(report.pingPong(), "kernel");
        for (Outcome o : report.pingPong()) {
            if (!o.ok()) {
                md.append(failedRow(o, 6));
                continue;
            }
            md.append(String.format(Locale.ROOT, "| %s | %.2f µs | %.2f µs | %s | %s | %s | %s B |%n", label(o),
                    o.value("p50_us"), o.value("p99_us"), ratio(o, kernel, "p50_us"), ratio(o, kernel, "p99_us"),
                    wildcardOverAddress(report.pingPong(), o, "p50_us"), o.server().get("alloc_b_per_rt")));
        }
        md.append(String.format(Locale.ROOT, "%nHTTP: the JDK's HttpServer (default executor), `wrk -t 1 -c %d -d %ds"
                + " --latency` on the kernel, 13-byte responses; ratios against the kernel server in the same run:%n%n",
                options.connections(), options.httpSeconds()));
        md.append("| server | requests/s | p50 | p99 | requests/s / kernel | p50 / kernel | p50 wildcard / address"
                + " | errors |\n");
        md.append("|---|---|---|---|---|---|---|---|\n");
        Outcome kernelHttp = Outcome.find(report.http(), "kernel");
        for (Outcome o : report.http()) {
            if (!o.ok()) {
                md.append(failedRow(o, 7));
                continue;
            }
            md.append(String.format(Locale.ROOT, "| %s | %.0f | %.2f µs | %.2f µs | %s | %s | %s | %s |%n", label(o),
                    o.value("rps"), o.value("p50_us"), o.value("p99_us"), ratio(o, kernelHttp, "rps"),
                    ratio(o, kernelHttp, "p50_us"), wildcardOverAddress(report.http(), o, "p50_us"),
                    o.client().get("errors")));
        }
        md.append("\nTargets (the xdp server bound to the wildcard, a mixed selector):\n\n| target | measured | met |\n"
                + "|---|---|---|\n");
        md.append(mixedWithinPure("ping-pong", report.pingPong()));
        md.append(faster("ping-pong: p50 below the kernel server's", report.pingPong(), "p50_us", false));
        md.append(mixedWithinPure("HTTP", report.http()));
        md.append(faster("HTTP: p50 below the kernel server's", report.http(), "p50_us", false));
        md.append(faster("HTTP: requests/s above the kernel server's", report.http(), "rps", true));
        return md.toString();
    }

    /** The case's label without the benchmark's name in front (the table says which). */
    private static String label(Outcome o) {
        return o.label().substring(o.label().indexOf(": ") + 2);
    }

    /** For a wildcard case, its figure over the same driver's address-bound one; blank otherwise. */
    private static String wildcardOverAddress(List<Outcome> outcomes, Outcome o, String key) {
        if (!o.id().endsWith("-wildcard")) {
            return "";
        }
        return ratio(o, Outcome.find(outcomes, o.id().replace("-wildcard", "-address")), key);
    }

    private static String mixedWithinPure(String benchmark, List<Outcome> outcomes) {
        return xdpWildcardOver(String.format(Locale.ROOT, "%s: p50 wildcard ≤ %.1f × p50 address", benchmark,
                MIXED_OVER_PURE_MAX), outcomes, "xdp-address", "p50_us", x -> x <= MIXED_OVER_PURE_MAX);
    }

    /** Whether xdp-wildcard's {@code key} is above (or below) the kernel server's in the same benchmark. */
    private static String faster(String what, List<Outcome> outcomes, String key, boolean higherIsBetter) {
        return xdpWildcardOver(what, outcomes, "kernel", key, x -> higherIsBetter ? x > 1 : x < 1);
    }

    /** A target on xdp-wildcard's {@code key} over the reference case's, met when {@code met} holds for the ratio. */
    private static String xdpWildcardOver(String what, List<Outcome> outcomes, String referenceId, String key,
                                          DoublePredicate met) {
        Outcome mixed = Outcome.find(outcomes, "xdp-wildcard");
        Outcome reference = Outcome.find(outcomes, referenceId);
        if (!mixed.ok() || !reference.ok()) {
            return notMeasured(what, mixed, reference);
        }
        double x = mixed.value(key) / reference.value(key);
        String name = referenceId.equals("kernel") ? "kernel" : "address";
        return target(what, String.format(Locale.ROOT, "wildcard / %s = %.2f", name, x), met.test(x));
    }
}
