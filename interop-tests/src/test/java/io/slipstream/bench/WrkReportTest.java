package io.slipstream.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * {@link WrkReport} reads wrk 4's report as wrk prints it: the figures in their units, errors of
 * both kinds summed, and a report without its latency distribution refused by name.
 */
class WrkReportTest {
    /** wrk 4.1.0 (Debian) against a server answering 404, captured as printed. */
    private static final String NOT_FOUND_RUN = """
            Running 1s test @ http://127.0.0.1:8000/nonexistent
              1 threads and 4 connections
              Thread Stats   Avg      Stdev     Max   +/- Stdev
                Latency    13.47ms   20.22ms 111.37ms   87.68%
                Req/Sec   602.00    408.29     1.24k    60.00%
              Latency Distribution
                 50%    4.26ms
                 75%   14.56ms
                 90%   39.23ms
                 99%   97.74ms
              610 requests in 1.04s, 309.95KB read
              Non-2xx or 3xx responses: 610
            Requests/sec:    588.79
            Transfer/sec:    299.17KB
            """;

    @Test
    void readsTheFiguresInTheirUnits() {
        WrkReport r = WrkReport.parse(NOT_FOUND_RUN);
        assertEquals(610, r.requests());
        assertEquals(588.79, r.requestsPerSecond(), 1e-9);
        assertEquals(4260, r.p50Us(), 1e-6, "4.26ms, not the 75% or the Thread Stats line");
        assertEquals(97740, r.p99Us(), 1e-6);
        assertEquals(610, r.errors(), "every non-2xx/3xx response is an error");
    }

    @Test
    void sumsSocketErrorsAndReadsMicroseconds() {
        // wrk prints the socket errors line only when there are some (its format: wrk.c).
        String run = NOT_FOUND_RUN.replace("Non-2xx or 3xx responses: 610", "Socket errors: connect 1, read 2, write 3, timeout 4")
                .replace("4.26ms", "87.00us").replace("97.74ms", "1.20s");
        WrkReport r = WrkReport.parse(run);
        assertEquals(87, r.p50Us(), 1e-9);
        assertEquals(1_200_000, r.p99Us(), 1e-6);
        assertEquals(10, r.errors());
    }

    @Test
    void refusesAReportWithoutItsLatencyDistribution() {
        String withoutLatency = NOT_FOUND_RUN.replaceAll("(?m)^\\s+\\d\\d%.*\\n", "");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> WrkReport.parse(withoutLatency));
        assertTrue(e.getMessage().startsWith("no 50% latency in wrk's report (run with --latency)"), e.getMessage());
    }
}
