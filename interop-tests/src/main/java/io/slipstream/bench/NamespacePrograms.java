package io.slipstream.bench;

import io.slipstream.testing.NetNs;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;

/**
 * How the namespace benches ({@link XdpBench}, {@link ServerBench}) run a case: a server program
 * in {@link VethNamespaces#b()} and a client program in {@link VethNamespaces#a()}
 * ({@code ip netns exec}), each on the kernel (plain java) or, exactly as a user's program,
 * through {@code bin/slipstream run} on a driver. Each program prints {@code listening} (the
 * server, once bound) and one line {@code result KIND key=value...}, which become the case's
 * {@link Outcome}.
 */
final class NamespacePrograms {
    /** How long a server may take to start listening (a JVM, and on Slipstream the stack and its NIC). */
    private static final Duration START = Duration.ofSeconds(60);
    /** How long a server may take to print its result and exit once its client is done. */
    private static final Duration EXIT_GRACE = Duration.ofSeconds(10);

    /** Where a program's sockets run. */
    enum Side {
        KERNEL,
        /** AF_XDP beside the kernel, on the kernel's address of the end's device. */
        XDP,
        /** AF_PACKET, on the end's {@link VethNamespaces.End#ownStackAddress() address of its own}. */
        PACKET
    }

    private final VethNamespaces net;
    private final Path launcher;
    private final String classPath;
    private final Path java;

    NamespacePrograms(VethNamespaces net, Path launcher, String classPath, Path java) {
        this.net = net;
        this.launcher = launcher;
        this.classPath = classPath;
        this.java = java;
    }

    VethNamespaces net() {
        return net;
    }

    /**
     * Runs each case in turn, adding its outcome, printed as it comes, to {@code outcomes}; false
     * if it stopped because the sandbox closed (Ctrl-C: the shutdown hook has removed it).
     */
    <C> boolean runEach(List<C> cases, Function<C, Outcome> run, List<Outcome> outcomes) {
        for (C c : cases) {
            if (net.closed()) {
                return false;
            }
            outcomes.add(BenchTables.printed(run.apply(c)));
        }
        return true;
    }

    /**
     * A program's command line in an end's namespace: plain java on the kernel; on Slipstream
     * the same program through {@code bin/slipstream run} with the driver on the end's device
     * and default settings (xdp takes the kernel's address on it, packet the end's own-stack
     * address), as a user runs it.
     */
    String[] program(Side side, VethNamespaces.End end, Class<?> main, String... args) {
        List<String> command = new ArrayList<>();
        if (side != Side.KERNEL) {
            // The jars were built before this run: the launcher must not build again.
            command.addAll(List.of("env", "SLIPSTREAM_NO_BUILD=1", launcher.toString(), "run",
                    "--driver", side.name().toLowerCase(Locale.ROOT), "--interface", end.device()));
            if (side == Side.PACKET) {
                command.addAll(List.of("--address", end.ownStackCidr()));
            }
            command.add("--");
        }
        command.addAll(List.of(java.toString(), "--enable-native-access=ALL-UNNAMED", "-cp", classPath, main.getName()));
        command.addAll(List.of(args));
        return command.toArray(String[]::new);
    }

    /** Starts the server in b, waits until it listens, runs the client in a, and reads both results. */
    Outcome exchange(String id, String label, String[] server, String[] client, Duration timeout) {
        try (NetNs.Background serving = net.b().ns().start(server)) {
            String notListening = awaitListening(serving);
            if (notListening != null) {
                return Outcome.failed(id, label, "the server side did not start: " + notListening);
            }
            NetNs.Result clientDone = net.a().ns().exec(timeout, client);
            Map<String, String> clientResult = result(clientDone.stdout());
            if (!clientDone.ok() || clientResult == null) {
                // Its peer is gone: the server would only wait for its watchdog.
                return Outcome.failed(id, label, "client: " + (clientDone.timedOut() ? "no end within the case's bound of "
                        + timeout.toSeconds() + " s, " + tail(clientDone.stdout() + clientDone.stderr()) : summary(clientDone))
                        + "; server: " + tail(serving.output()));
            }
            NetNs.Result serverDone = serving.await(EXIT_GRACE);
            Map<String, String> serverResult = result(serverDone.stdout());
            if (serverResult == null) {
                return Outcome.failed(id, label, "server: " + summary(serverDone));
            }
            if (!serverDone.ok()) {
                // Measured all the same; how the program ended is a finding of its own.
                System.out.printf("%-60s warning: the server printed its result, then %s%n", label, serverDone.timedOut()
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
}
