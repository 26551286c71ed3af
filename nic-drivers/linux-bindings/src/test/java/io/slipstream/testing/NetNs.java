package io.slipstream.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/**
 * A network namespace that a test creates for itself and always removes (close it in a
 * finally block or an {@code @AfterEach}). Every command runs with a bounded timeout and its
 * output captured, so a broken kernel interaction fails a test instead of hanging it.
 * Needs root; {@link #isRoot()} is what tests check before they start.
 */
public final class NetNs implements AutoCloseable {
    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(10);

    private final String name;
    private final List<Background> started = new ArrayList<>();
    private boolean closed;

    private NetNs(String name) {
        this.name = name;
    }

    /** Creates {@code prefix-<8 hex digits>} with {@code ip netns add}; its loopback is brought up. */
    public static NetNs create(String prefix) {
        NetNs ns = new NetNs(prefix + "-" + randomHex(8));
        run("ip", "netns", "add", ns.name).orThrow();
        try {
            ns.exec("ip", "link", "set", "lo", "up").orThrow();
        } catch (RuntimeException e) {
            ns.close();
            throw e;
        }
        return ns;
    }

    public String name() {
        return name;
    }

    /** Runs {@code command} inside the namespace, waiting at most {@link #DEFAULT_TIMEOUT}. */
    public Result exec(String... command) {
        return exec(DEFAULT_TIMEOUT, command);
    }

    public Result exec(Duration timeout, String... command) {
        return run(timeout, inside(command));
    }

    /**
     * Starts {@code command} inside the namespace in the background; it is killed when this
     * namespace closes, if it has not ended before.
     */
    public Background start(String... command) {
        Background b = Background.start(inside(command));
        started.add(b);
        return b;
    }

    private String[] inside(String... command) {
        String[] full = new String[command.length + 4];
        full[0] = "ip";
        full[1] = "netns";
        full[2] = "exec";
        full[3] = name;
        System.arraycopy(command, 0, full, 4, command.length);
        return full;
    }

    /**
     * Kills what was started here (and anything else still running inside the namespace,
     * which can only be this test's), then deletes the namespace. Idempotent.
     */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        for (Background b : started) {
            b.close();
        }
        Result pids = run("ip", "netns", "pids", name);
        for (String line : pids.stdout().split("\\s+")) {
            if (!line.isBlank()) {
                ProcessHandle.of(Long.parseLong(line.trim())).ifPresent(ProcessHandle::destroyForcibly);
            }
        }
        run("ip", "netns", "delete", name).orThrow();
    }

    /** Runs a command in the current namespace, waiting at most {@link #DEFAULT_TIMEOUT}. */
    public static Result run(String... command) {
        return run(DEFAULT_TIMEOUT, command);
    }

    /** Runs a command; after {@code timeout} it and its children are killed and the result says so. */
    public static Result run(Duration timeout, String... command) {
        try (Background b = Background.start(command)) {
            return b.await(timeout);
        }
    }

    /** Whether this process runs with effective uid 0 (from /proc/self/status). */
    public static boolean isRoot() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("Uid:")) {
                    String[] ids = line.substring(4).trim().split("\\s+");
                    return ids.length > 1 && ids[1].equals("0");
                }
            }
            return false;
        } catch (IOException e) {
            return false;
        }
    }

    /** Whether {@code program} is an executable file in a directory of PATH. */
    public static boolean onPath(String program) {
        String path = System.getenv("PATH");
        if (path == null) {
            return false;
        }
        for (String dir : path.split(":")) {
            if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, program))) {
                return true;
            }
        }
        return false;
    }

    /**
     * Skips the calling test, saying {@code needsRoot}, unless it runs as root; then skips it
     * unless every one of {@code tools} is on the PATH.
     */
    public static void assumeRootWith(String needsRoot, String... tools) {
        Assumptions.assumeTrue(isRoot(), needsRoot);
        List<String> missing = new ArrayList<>();
        for (String tool : tools) {
            if (!onPath(tool)) {
                missing.add(tool);
            }
        }
        Assumptions.assumeTrue(missing.isEmpty(), () -> "needs " + String.join(", ", tools)
                + " (bin/slipstream test installs them), missing " + String.join(", ", missing) + ": skipped");
    }

    /** {@code digits} random lower-case hex digits, for names that must not collide. */
    public static String randomHex(int digits) {
        StringBuilder sb = new StringBuilder(digits);
        for (int i = 0; i < digits; i++) {
            sb.append(Character.forDigit(ThreadLocalRandom.current().nextInt(16), 16));
        }
        return sb.toString();
    }

    /** What a finished (or killed) command did. */
    public record Result(List<String> command, int exitCode, boolean timedOut, String stdout, String stderr) {
        public boolean ok() {
            return !timedOut && exitCode == 0;
        }

        /** This result if the command succeeded; otherwise an exception saying what it printed. */
        public Result orThrow() {
            if (!ok()) {
                throw new IllegalStateException(this.toString());
            }
            return this;
        }

        @Override
        public String toString() {
            return String.join(" ", command) + (timedOut ? ": timed out" : ": exit " + exitCode)
                    + (stdout.isBlank() ? "" : "\nstdout: " + stdout.strip())
                    + (stderr.isBlank() ? "" : "\nstderr: " + stderr.strip());
        }
    }

    /** A started command whose output goes to temporary files; closing kills what is left of it. */
    public static final class Background implements AutoCloseable {
        private final List<String> command;
        private final Process process;
        private final Path out;
        private final Path err;

        private Background(List<String> command, Process process, Path out, Path err) {
            this.command = command;
            this.process = process;
            this.out = out;
            this.err = err;
        }

        static Background start(String... command) {
            List<String> cmd = List.of(command);
            Path out = null;
            Path err = null;
            try {
                out = Files.createTempFile("slipstream-cmd-", ".out");
                err = Files.createTempFile("slipstream-cmd-", ".err");
                Process p = new ProcessBuilder(cmd)
                        .redirectOutput(out.toFile())
                        .redirectError(err.toFile())
                        .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
                        .start();
                return new Background(cmd, p, out, err);
            } catch (IOException e) {
                deleteQuietly(out);
                deleteQuietly(err);
                throw new UncheckedIOException("cannot start " + String.join(" ", cmd), e);
            }
        }

        public long pid() {
            return process.pid();
        }

        public boolean isAlive() {
            return process.isAlive();
        }

        /** Waits up to {@code timeout} for the command to end; kills it (and its children) after that. */
        public Result await(Duration timeout) {
            boolean finished;
            try {
                finished = process.waitFor(timeout.toNanos(), TimeUnit.NANOSECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                finished = false;
            }
            if (!finished) {
                kill();
            }
            return new Result(command, finished ? process.exitValue() : -1, !finished, read(out), read(err));
        }

        /** Output so far, for diagnosing a command that still runs. */
        public String output() {
            return read(out) + read(err);
        }

        private void kill() {
            process.descendants().forEach(ProcessHandle::destroyForcibly);
            process.destroyForcibly();
            try {
                process.waitFor(5, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }

        @Override
        public void close() {
            if (process.isAlive()) {
                kill();
            }
            deleteQuietly(out);
            deleteQuietly(err);
        }

        private static String read(Path file) {
            try {
                return Files.readString(file, StandardCharsets.UTF_8);
            } catch (IOException e) {
                return "";
            }
        }

        private static void deleteQuietly(Path file) {
            if (file != null) {
                try {
                    Files.deleteIfExists(file);
                } catch (IOException ignored) {
                    // a leftover temp file is harmless
                }
            }
        }
    }
}
