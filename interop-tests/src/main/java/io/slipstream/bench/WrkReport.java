package io.slipstream.bench;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What {@link HttpPeer} takes from wrk's report (wrk 4, run with {@code --latency}): the
 * requests completed, the rate, the 50th and 99th percentile latency of its "Latency
 * Distribution", and the errors it counted (socket errors of every kind, and responses that
 * were not 2xx or 3xx). A report without one of the first four is an error naming what is
 * missing: wrk's format is not ours to guess at.
 */
record WrkReport(long requests, double requestsPerSecond, double p50Us, double p99Us, long errors) {
    private static final Pattern REQUESTS = Pattern.compile("^\\s*(\\d+) requests in ", Pattern.MULTILINE);
    private static final Pattern RATE = Pattern.compile("^Requests/sec:\\s+([0-9.]+)", Pattern.MULTILINE);
    private static final Pattern SOCKET_ERRORS = Pattern.compile(
            "^\\s*Socket errors: connect (\\d+), read (\\d+), write (\\d+), timeout (\\d+)", Pattern.MULTILINE);
    private static final Pattern NOT_2XX_3XX = Pattern.compile("^\\s*Non-2xx or 3xx responses: (\\d+)", Pattern.MULTILINE);

    static WrkReport parse(String output) {
        long errors = 0;
        Matcher socket = SOCKET_ERRORS.matcher(output);
        if (socket.find()) {
            for (int group = 1; group <= 4; group++) {
                errors += Long.parseLong(socket.group(group));
            }
        }
        Matcher status = NOT_2XX_3XX.matcher(output);
        if (status.find()) {
            errors += Long.parseLong(status.group(1));
        }
        return new WrkReport(Long.parseLong(find(REQUESTS, output, "the request count")),
                Double.parseDouble(find(RATE, output, "Requests/sec")), percentileUs(output, "50%"),
                percentileUs(output, "99%"), errors);
    }

    /** A "Latency Distribution" line such as {@code     99%    1.23ms}, in microseconds. */
    private static double percentileUs(String output, String percent) {
        Pattern line = Pattern.compile("^\\s*" + Pattern.quote(percent) + "\\s+([0-9.]+)(us|ms|s|m)\\s*$",
                Pattern.MULTILINE);
        Matcher m = line.matcher(output);
        if (!m.find()) {
            throw new IllegalArgumentException("no " + percent + " latency in wrk's report (run with --latency):\n" + output);
        }
        double value = Double.parseDouble(m.group(1));
        return switch (m.group(2)) {
            case "us" -> value;
            case "ms" -> value * 1e3;
            case "s" -> value * 1e6;
            default -> value * 60e6; // "m": minutes
        };
    }

    private static String find(Pattern pattern, String output, String what) {
        Matcher m = pattern.matcher(output);
        if (!m.find()) {
            throw new IllegalArgumentException("no " + what + " in wrk's report:\n" + output);
        }
        return m.group(1);
    }
}
