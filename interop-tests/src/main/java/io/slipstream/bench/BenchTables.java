package io.slipstream.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * What the namespace benches print alike: each case's line as it comes, and the markdown
 * tables' shared rows (ratios, failed cases, targets marked met or not).
 */
final class BenchTables {
    private BenchTables() {}

    /** Prints the case's line by the kind of its client's result (ping-pong, bulk, HTTP); returns it. */
    static Outcome printed(Outcome o) {
        Map<String, String> c = o.client();
        if (!o.ok()) {
            System.out.printf("%-60s FAILED: %s%n", o.label(), o.failure());
        } else if (c.get("kind").equals("pingpong")) {
            System.out.printf(Locale.ROOT, "%-60s RTT p50 %s µs, p90 %s µs, p99 %s µs, p99.9 %s µs, max %s µs;"
                    + " heap per round trip %s B client, %s B server%n", o.label(), c.get("p50_us"), c.get("p90_us"),
                    c.get("p99_us"), c.get("p999_us"), c.get("max_us"), c.get("alloc_b_per_rt"),
                    o.server().get("alloc_b_per_rt"));
        } else if (c.get("kind").equals("bulk")) {
            System.out.printf(Locale.ROOT, "%-60s %s Gbit/s (%s MB in %s s); heap per 64 KiB block %s B writer,"
                    + " %s B reader%n", o.label(), c.get("gbit_per_s"), c.get("mbytes"), c.get("seconds"),
                    c.get("alloc_b_per_block"), o.server().get("alloc_b_per_block"));
        } else {
            System.out.printf(Locale.ROOT, "%-60s %s requests/s, latency p50 %s µs, p99 %s µs (wrk); %s requests,"
                    + " %s errors; the server counted %s%n", o.label(), c.get("rps"), c.get("p50_us"), c.get("p99_us"),
                    c.get("requests"), c.get("errors"), o.server().get("requests"));
        }
        System.out.flush();
        return o;
    }

    /** {@code o}'s figure under {@code key} over {@code reference}'s, or n/a when the reference has none. */
    static String ratio(Outcome o, Outcome reference, String key) {
        return reference.ok() ? String.format(Locale.ROOT, "%.2f", o.value(key) / reference.value(key)) : "n/a";
    }

    static String target(String what, String measured, boolean met) {
        return "| " + what + " | " + measured + " | " + (met ? "yes" : "**no**") + " |\n";
    }

    /** A target whose cases did not all produce a result: not met, and which ones failed. */
    static String notMeasured(String what, Outcome... needed) {
        List<String> failed = new ArrayList<>();
        for (Outcome o : needed) {
            if (!o.ok()) {
                failed.add(o.label() + " failed");
            }
        }
        return target(what, "not measured: " + String.join(", ", failed), false);
    }

    /** A row saying the case failed, with {@code columns} empty cells after the label. */
    static String failedRow(Outcome o, int columns) {
        return "| " + o.label() + " | failed" + " |".repeat(columns) + "\n";
    }
}
