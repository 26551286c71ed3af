package io.slipstream.shim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.slipstream.testing.AgentJars;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The drop-in path end to end: an unmodified program ({@link DropInProgram}: ServerSocket and
 * Socket, HttpServer and HttpClient, a Netty NIO echo with default settings) in a child JVM
 * started with the javaagent, once on two
 * in-memory stacks (accelerated) and once on kernel loopback (fallback).
 */
class AgentDropInTest {
    @TempDir
    Path dir;

    /** An agent jar naming the agent class; the classes themselves come from the class path. */
    private List<String> run(String host, String... properties) throws Exception {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.add("--enable-native-access=ALL-UNNAMED");
        cmd.add("-javaagent:" + AgentJars.premainOnly(dir));
        cmd.addAll(List.of(properties));
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(DropInProgram.class.getName());
        cmd.add(host);
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        boolean ended = p.waitFor(120, TimeUnit.SECONDS);
        if (!ended) {
            p.destroyForcibly();
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(ended, "the program did not finish:\n" + out);
        assertEquals(0, p.exitValue(), out);
        // Netty rebuilds a selector that returns early without cause, and says so.
        assertFalse(out.contains("prematurely") || out.contains("Rebuilding"), out);
        return out.lines().toList();
    }

    @Test
    void unmodifiedProgramRunsAcceleratedOnTwoInMemoryStacks() throws Exception {
        List<String> out = run("198.18.9.2",
                "-Dslipstream.driver=memory", "-Dslipstream.interface=dropin",
                "-Dslipstream.address=198.18.9.1/24,198.18.9.2/24");
        assertTrue(out.contains("provider " + SlipstreamSelectorProvider.class.getName()), out.toString());
        assertTrue(out.contains("classic hello"), out.toString());
        assertTrue(out.contains("http 200 10485760 digest-ok"), out.toString());
        assertTrue(out.contains("netty through netty"), out.toString());
        assertTrue(out.contains("fallbacks {}"), "nothing fell back: " + out);
        assertTrue(out.contains("DONE"), out.toString());
    }

    @Test
    void withoutANicTheSameProgramRunsOnTheKernel() throws Exception {
        List<String> out = run("127.0.0.1");
        assertTrue(out.contains("classic hello"), out.toString());
        assertTrue(out.contains("http 200 10485760 digest-ok"), out.toString());
        assertTrue(out.contains("netty through netty"), out.toString());
        assertTrue(out.stream().anyMatch(l -> l.startsWith("fallbacks {NO_NIC=")), out.toString());
        assertTrue(out.contains("DONE"), out.toString());
    }
}
