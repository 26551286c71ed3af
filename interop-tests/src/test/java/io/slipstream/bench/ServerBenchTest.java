package io.slipstream.bench;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.slipstream.testing.NetNs;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.function.Executable;

/**
 * {@code bin/slipstream serverbench}'s parts, end to end in a tiny run (200 round trips, wrk for
 * 1 s): every server (kernel; xdp bound to the address and to the wildcard; packet likewise)
 * answers its ping-pong and its HTTP load through the real programs in their namespaces (the
 * Slipstream servers through {@code bin/slipstream run}), wrk's requests all reached the server
 * with no error, the tables name every case and every target, and the sandbox is gone
 * afterwards. No figure is judged: this host's timing is not the code's.
 */
@Timeout(900)
class ServerBenchTest {
    private static final Path LAUNCHER = Path.of(System.getProperty("user.dir")).getParent().resolve("bin/slipstream");

    @Test
    void everyServerAnswersBothBenchmarksAndTheSandboxIsRemoved() {
        NetNs.assumeRootWith("serverbench needs root (network namespaces, XDP programs): skipped", "ip", "ethtool", "wrk");
        assertTrue(Files.isExecutable(LAUNCHER), LAUNCHER + " is missing");
        ServerBench.Options options = new ServerBench.Options(200, 50, 1, 4, LAUNCHER,
                System.getProperty("java.class.path"), Path.of(System.getProperty("java.home"), "bin", "java"));

        ServerBench.Report report = ServerBench.run(options);

        assertEquals(ServerBench.CASES.size(), report.pingPong().size(), "every ping-pong case");
        assertEquals(ServerBench.CASES.size(), report.http().size(), "every HTTP case");
        // Every case's failure in one report, not only the first.
        assertAll(Stream.concat(report.pingPong().stream(), report.http().stream())
                .<Executable>map(o -> () -> assertTrue(o.ok(), () -> o.label() + ": " + o.failure())));
        for (Outcome o : report.pingPong()) {
            assertEquals("200", o.client().get("rounds"), o.label());
            assertTrue(o.value("p50_us") > 0 && o.value("p99_us") >= o.value("p50_us"), () -> o.label() + ": " + o.client());
        }
        for (Outcome o : report.http()) {
            long wrkRequests = Long.parseLong(o.client().get("requests"));
            assertTrue(wrkRequests > 0 && o.value("rps") > 0, () -> o.label() + ": " + o.client());
            assertEquals("0", o.client().get("errors"), () -> o.label() + ": wrk counted errors: " + o.client());
            // wrk counts the responses it read; the server may have answered a few more as wrk stopped.
            assertTrue(Long.parseLong(o.server().get("requests")) >= wrkRequests, () -> o.label() + ": " + o.server());
            assertTrue(o.value("p99_us") >= o.value("p50_us"), () -> o.label() + ": " + o.client());
        }
        String tables = ServerBench.tables(report, options);
        for (Outcome o : Stream.concat(report.pingPong().stream(), report.http().stream()).toList()) {
            String row = "| " + o.label().substring(o.label().indexOf(": ") + 2) + " | ";
            assertTrue(tables.contains(row), () -> row + " missing from\n" + tables);
        }
        assertTrue(tables.contains("| ping-pong: p50 wildcard ≤ 1.2 × p50 address | wildcard / address = "), tables);
        assertTrue(tables.contains("| HTTP: requests/s above the kernel server's | wildcard / kernel = "), tables);

        assertEquals(2, report.namespaces().size());
        assertEquals(List.of(), report.namespaces().stream().filter(VethNamespaces::exists).toList(),
                "namespaces left behind");
    }
}
