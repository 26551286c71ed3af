package io.slipstream.interop;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A program the test runs in a process of its own and talks to: its standard output is read
 * line by line as it comes (so the test can wait for READY), its standard error kept apart (so
 * the test can count what it was told there), its standard input is the test's to write.
 * Closing kills it if it still runs.
 */
final class ChildProgram implements AutoCloseable {
    /** What the program did, once it ended. */
    record Ended(int exitCode, List<String> out, List<String> err) {
        /** Both streams, for failure messages. */
        String all() {
            return "exit " + exitCode + "\nstdout:\n" + String.join("\n", out) + "\nstderr:\n" + String.join("\n", err);
        }
    }

    private final Process process;
    private final BlockingQueue<String> fresh = new LinkedBlockingQueue<>();
    private final List<String> out = new ArrayList<>();
    private final List<String> err = new ArrayList<>();
    private final Thread outReader;
    private final Thread errReader;

    private ChildProgram(Process process) {
        this.process = process;
        this.outReader = Thread.ofPlatform().daemon().start(() -> read(process.getInputStream(), out, true));
        this.errReader = Thread.ofPlatform().daemon().start(() -> read(process.getErrorStream(), err, false));
    }

    /** Starts {@code command} with {@code environment} added to this process's. */
    static ChildProgram start(List<String> command, Map<String, String> environment) {
        ProcessBuilder pb = new ProcessBuilder(command);
        pb.environment().putAll(environment);
        try {
            return new ChildProgram(pb.start());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start " + command, e);
        }
    }

    /** Starts {@code command} and waits (at most {@code within}) for its end, its standard input closed. */
    static Ended run(List<String> command, Map<String, String> environment, Duration within) {
        try (ChildProgram p = start(command, environment)) {
            return p.finish(within);
        }
    }

    private void read(InputStream stream, List<String> lines, boolean announce) {
        try (BufferedReader r = new BufferedReader(new InputStreamReader(stream, StandardCharsets.UTF_8))) {
            String line;
            while ((line = r.readLine()) != null) {
                synchronized (lines) {
                    lines.add(line);
                }
                if (announce) {
                    fresh.add(line);
                }
            }
        } catch (IOException ignored) {
            // the program is gone; what it said is kept
        }
    }

    /** The next line of standard output starting with {@code prefix}; fails, with all output, if none comes in time. */
    String awaitLine(String prefix, Duration within) throws InterruptedException {
        long deadline = System.nanoTime() + within.toNanos();
        while (System.nanoTime() < deadline) {
            String line = fresh.poll(200, TimeUnit.MILLISECONDS);
            if (line != null && line.startsWith(prefix)) {
                return line;
            }
            if (line == null && !process.isAlive() && !outReader.isAlive() && fresh.isEmpty()) {
                break;
            }
        }
        throw new AssertionError("the program never said " + prefix + "; " + snapshot());
    }

    /** Writes {@code line} to the program's standard input. */
    void say(String line) {
        PrintStream in = new PrintStream(process.getOutputStream(), true, StandardCharsets.UTF_8);
        in.println(line);
    }

    /** Closes its standard input and waits (at most {@code within}) for it to end. */
    Ended finish(Duration within) {
        try {
            process.getOutputStream().close();
        } catch (IOException ignored) {
            // it has already closed its end
        }
        try {
            assertTrue(process.waitFor(within.toNanos(), TimeUnit.NANOSECONDS), () -> "the program did not end; " + snapshot());
            outReader.join(within.toMillis());
            errReader.join(within.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted waiting for the program", e);
        }
        return new Ended(process.exitValue(), copy(out), copy(err));
    }

    long pid() {
        return process.pid();
    }

    private String snapshot() {
        return "so far:\nstdout:\n" + String.join("\n", copy(out)) + "\nstderr:\n" + String.join("\n", copy(err));
    }

    private static List<String> copy(List<String> lines) {
        synchronized (lines) {
            return List.copyOf(lines);
        }
    }

    @Override
    public void close() {
        if (process.isAlive()) {
            process.descendants().forEach(ProcessHandle::destroyForcibly);
            process.destroyForcibly();
            try {
                process.waitFor(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
