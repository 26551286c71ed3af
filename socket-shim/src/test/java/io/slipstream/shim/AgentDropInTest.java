package io.slipstream.shim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.slipstream.testing.AgentJars;
import io.slipstream.testing.ChildJvm;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
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

    /** Runs the program with an agent jar naming the agent class; the classes themselves come from the class path. */
    private List<String> run(String host, String... properties) throws Exception {
        List<String> options = new ArrayList<>();
        options.add("-javaagent:" + AgentJars.premainOnly(dir));
        options.addAll(List.of(properties));
        ChildJvm.Result r = ChildJvm.run(options, DropInProgram.class, host);
        String out = r.output();
        assertTrue(r.ended(), "the program did not finish:\n" + out);
        assertEquals(0, r.exitValue(), out);
        // Netty rebuilds a selector that returns early without cause, and says so.
        assertFalse(out.contains("prematurely") || out.contains("Rebuilding"), out);
        return r.lines();
    }

    @Test
    void unmodifiedProgramRunsAcceleratedOnTwoInMemoryStacks() throws Exception {
        List<String> out = run("198.18.9.2",
                "-Dslipstream.driver=memory", "-Dslipstream.interface=dropin",
                "-Dslipstream.address=198.18.9.1/24,198.18.9.2/24");
        assertTrue(out.contains("provider " + SlipstreamSelectorProvider.class.getName()), out.toString());
        assertTrue(out.stream().anyMatch(l -> l.startsWith("classic listening on /198.18.9.2:") && l.endsWith(" as bound")),
                "a ServerSocket bound to a stack's address reports it: " + out);
        assertTrue(out.contains("classic hello"), out.toString());
        assertTrue(out.contains("http 200 10485760 digest-ok"), out.toString());
        assertTrue(out.contains("netty through netty"), out.toString());
        assertTrue(out.contains("fallbacks {}"), "nothing fell back: " + out);
        assertTrue(out.contains("DONE"), out.toString());
    }

    @Test
    void withoutANicTheSameProgramRunsOnTheKernel() throws Exception {
        List<String> out = run("127.0.0.1");
        assertTrue(out.stream().anyMatch(l -> l.startsWith("classic listening on /127.0.0.1:") && l.endsWith(" as bound")),
                out.toString());
        assertTrue(out.contains("classic hello"), out.toString());
        assertTrue(out.contains("http 200 10485760 digest-ok"), out.toString());
        assertTrue(out.contains("netty through netty"), out.toString());
        assertTrue(out.stream().anyMatch(l -> l.startsWith("fallbacks {NO_NIC=")), out.toString());
        assertTrue(out.contains("DONE"), out.toString());
    }
}
