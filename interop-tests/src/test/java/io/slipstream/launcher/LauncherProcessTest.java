package io.slipstream.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * {@code bin/slipstream run} becomes the program it runs: the process the user started is the
 * program's JVM (no launcher process in between), so a signal sent to it reaches the program,
 * its exit status and standard input are the program's, and nothing is left running after it.
 */
class LauncherProcessTest {
    private static final Path SCRIPT = Path.of(System.getProperty("user.dir")).getParent().resolve("bin/slipstream");
    private static final long WAIT_SECONDS = 60;

    @Test
    void sigtermReachesTheProgramWhichIsTheProcessTheUserStarted() throws Exception {
        assertSignalEndsTheProgram("TERM", 143);
    }

    @Test
    void sigintReachesTheProgramWhichIsTheProcessTheUserStarted() throws Exception {
        assertSignalEndsTheProgram("INT", 130);
    }

    @Test
    void theProgramsExitStatusIsTheLaunchers() throws Exception {
        Process p = start("java", "-cp", System.getProperty("java.class.path"), SignalProgram.class.getName(), "exit", "7");
        assertTrue(p.waitFor(WAIT_SECONDS, TimeUnit.SECONDS), "the program did not end");
        assertEquals(7, p.exitValue(), output(p));
    }

    @Test
    void aBadOptionIsOneLineAndStartsNothing() throws Exception {
        Process p = start(List.of("--speed", "9"), "java", "Main");
        assertTrue(p.waitFor(WAIT_SECONDS, TimeUnit.SECONDS), "the launcher did not end");
        String out = output(p);
        assertEquals(2, p.exitValue(), out);
        assertTrue(out.startsWith("slipstream: unknown option --speed"), out);
    }

    private static void assertSignalEndsTheProgram(String signal, int expectedStatus) throws Exception {
        Process p = start("java", "-cp", System.getProperty("java.class.path"), SignalProgram.class.getName(), "wait");
        try {
            BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
            assertEquals("ready", readLine(out, p));
            // The started process is the program itself, with the agent, and has no child.
            String cmdline = Files.readString(Path.of("/proc", Long.toString(p.pid()), "cmdline")).replace('\0', ' ');
            assertTrue(cmdline.contains(SignalProgram.class.getName()) && cmdline.contains("-javaagent:"), cmdline);
            assertEquals(0, p.descendants().count(), () -> "processes under the program: " + p.descendants().toList());

            Writer in = p.outputWriter(StandardCharsets.UTF_8);
            in.write("hello from the terminal\n");
            in.flush();
            assertEquals("stdin: hello from the terminal", readLine(out, p));

            Process kill = new ProcessBuilder("kill", "-" + signal, Long.toString(p.pid())).start();
            assertEquals(0, kill.waitFor());
            assertTrue(p.waitFor(WAIT_SECONDS, TimeUnit.SECONDS), "the program did not end on SIG" + signal);
            assertEquals("shutdown hook ran", readLine(out, p));
            assertEquals(expectedStatus, p.exitValue());
        } finally {
            p.destroyForcibly();
        }
    }

    private static Process start(String... command) throws IOException {
        return start(List.of(), command);
    }

    private static Process start(List<String> options, String... command) throws IOException {
        assertTrue(Files.isExecutable(SCRIPT), SCRIPT + " is missing");
        List<String> full = new ArrayList<>(List.of(SCRIPT.toString(), "run"));
        full.addAll(options);
        full.add("--");
        full.addAll(List.of(command));
        ProcessBuilder pb = new ProcessBuilder(full).redirectErrorStream(true);
        // The jars were packaged by this build; the script must not build again from inside it.
        pb.environment().put("SLIPSTREAM_NO_BUILD", "1");
        return pb.start();
    }

    /** The next line of output, skipping none; fails when the program ends first. */
    private static String readLine(BufferedReader out, Process p) throws IOException {
        String line = out.readLine();
        assertTrue(line != null, "the program ended with status " + (p.isAlive() ? "?" : p.exitValue()));
        return line;
    }

    private static String output(Process p) throws IOException {
        return new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    }
}
