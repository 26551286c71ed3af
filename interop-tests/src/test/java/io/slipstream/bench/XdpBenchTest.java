package io.slipstream.bench;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.slipstream.testing.NetNs;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.function.Executable;

/**
 * {@code bin/slipstream xdpbench}'s parts, end to end on a short run: every case, the floor
 * included, produces its result through the real programs in their namespaces (the Slipstream
 * sides through {@code bin/slipstream run}, as a user's program), the tables name every case,
 * and the sandbox is gone afterwards. No figure is judged: this host's timing is not the code's.
 */
@Timeout(600)
class XdpBenchTest {
    private static final Path LAUNCHER = Path.of(System.getProperty("user.dir")).getParent().resolve("bin/slipstream");

    @Test
    void everyCaseProducesAResultAndTheSandboxIsRemoved() {
        Assumptions.assumeTrue(NetNs.isRoot(), "xdpbench needs root (network namespaces, XDP programs): skipped");
        Assumptions.assumeTrue(NetNs.onPath("ip") && NetNs.onPath("ethtool"),
                "xdpbench needs ip and ethtool (bin/slipstream test installs them): skipped");
        assertTrue(Files.isExecutable(LAUNCHER), LAUNCHER + " is missing");
        XdpBench.Options options = new XdpBench.Options(300, 100, 1, LAUNCHER, System.getProperty("java.class.path"),
                Path.of(System.getProperty("java.home"), "bin", "java"));

        XdpBench.Report report = XdpBench.run(options);

        assertEquals(XdpBench.PING_PONG.size() + 1, report.pingPong().size(), "every ping-pong case and the floor");
        assertEquals(XdpBench.BULK.size(), report.bulk().size(), "every bulk case");
        // Every case's failure in one report, not only the first.
        assertAll(Stream.concat(report.pingPong().stream(), report.bulk().stream())
                .<Executable>map(o -> () -> assertTrue(o.ok(), () -> o.label() + ": " + o.failure())));
        for (Outcome o : report.pingPong()) {
            assertEquals(Integer.toString(options.rounds()), o.client().get("rounds"), o.label());
            assertTrue(o.value("p50_us") > 0 && o.value("p99_us") >= o.value("p50_us"), () -> o.label() + ": " + o.client());
        }
        for (Outcome o : report.bulk()) {
            assertTrue(o.value("gbit_per_s") > 0, () -> o.label() + ": " + o.client());
        }
        String tables = XdpBench.tables(report, options);
        for (Outcome o : report.pingPong()) {
            assertTrue(tables.contains("| " + o.label() + " | "), () -> o.label() + " missing from\n" + tables);
        }
        assertTrue(tables.contains("| (c) p50 ≤ 2 × the floor (d) |"), tables);

        assertEquals(2, report.namespaces().size());
        assertEquals(List.of(), report.namespaces().stream().filter(VethNamespaces::exists).toList(),
                "namespaces left behind");
    }
}
