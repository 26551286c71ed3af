package io.slipstream.bench;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;

/**
 * A namespace bench command's arguments: {@code --name N} options, each a positive whole number,
 * and the path of {@code bin/slipstream} (system property {@value #LAUNCHER_PROPERTY}, set by
 * that script). Anything wrong ends the JVM with one line and the usage, status 2.
 */
final class BenchArgs {
    static final String LAUNCHER_PROPERTY = "bench.launcher";

    private final String command;
    private final String usage;
    private final Map<String, Integer> values = new HashMap<>();

    /** Parses {@code args}, which may hold any of {@code names}. */
    BenchArgs(String command, String usage, Set<String> names, String[] args) {
        this.command = command;
        this.usage = usage;
        for (int i = 0; i < args.length; i += 2) {
            if (!names.contains(args[i])) {
                usage("unknown option " + args[i]);
            }
            values.put(args[i], positive(args[i], i + 1 < args.length ? args[i + 1] : null));
        }
    }

    /** The option's value, or {@code otherwise} when it was not given. */
    int get(String name, int otherwise) {
        return values.getOrDefault(name, otherwise);
    }

    Path launcher() {
        String launcher = System.getProperty(LAUNCHER_PROPERTY);
        if (launcher == null) {
            usage(LAUNCHER_PROPERTY + " (the path of bin/slipstream) is not set");
        }
        return Path.of(launcher);
    }

    /** Ends a bench: prints its tables after a blank line, then exits 0 if every case produced its figures, else 1. */
    static void exit(String tables, boolean ok) {
        System.out.println();
        System.out.print(tables);
        System.exit(ok ? 0 : 1);
    }

    private int positive(String option, String value) {
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

    private void usage(String problem) {
        System.err.println(command + ": " + problem + "\nusage: " + usage);
        System.exit(2);
    }
}
