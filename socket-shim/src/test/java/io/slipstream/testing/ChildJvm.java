package io.slipstream.testing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A program run in a child JVM of this JDK, with this test run's class path: for what one JVM
 * can do only once (a javaagent, a property read at class initialisation).
 */
public final class ChildJvm {
    private ChildJvm() {}

    /** How a child ended: whether it ended within the time allowed, its exit value, what it printed. */
    public record Result(boolean ended, int exitValue, String output) {
        public List<String> lines() {
            return output.lines().toList();
        }
    }

    /** Runs {@code main} with {@code args} after the JVM options {@code options}; up to 120 seconds. */
    public static Result run(List<String> options, Class<?> main, String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.add("--enable-native-access=ALL-UNNAMED");
        cmd.addAll(options);
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(main.getName());
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        boolean ended = p.waitFor(120, TimeUnit.SECONDS);
        if (!ended) {
            p.destroyForcibly();
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        return new Result(ended, ended ? p.exitValue() : -1, out);
    }
}
