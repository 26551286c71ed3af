package io.slipstream.shim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.slipstream.config.ConfigException;
import io.slipstream.launcher.RunCommand;
import io.slipstream.nic.NicException;
import io.slipstream.testing.AgentJars;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code bin/slipstream run}'s Java side: the command it builds, its errors, and one real run. */
class LauncherRunTest {
    private static final Path AGENT = Path.of("/opt/slipstream/socket-shim.jar");
    private static final Path JAVA = Path.of("/usr/lib/jvm/jdk-25/bin/java");

    @TempDir
    Path dir;

    @Test
    void addsNativeAccessTheAgentAndTheSettingsAfterTheJavaExecutable() {
        List<String> cmd = RunCommand.build(List.of("--driver", "tap", "--interface", "tap0", "--address", "198.18.5.2/24",
                "--", "java", "-Xmx1g", "-jar", "app.jar", "--port", "80"), AGENT, JAVA);
        assertEquals(List.of(JAVA.toString(), "--enable-native-access=ALL-UNNAMED", "-javaagent:" + AGENT,
                "-Dslipstream.address=198.18.5.2/24", "-Dslipstream.driver=tap", "-Dslipstream.interface=tap0",
                "-Xmx1g", "-jar", "app.jar", "--port", "80"), cmd);
        List<String> explicit = RunCommand.build(List.of("--", "/opt/jdk/bin/java", "Main"), AGENT, JAVA);
        assertEquals(List.of("/opt/jdk/bin/java", "--enable-native-access=ALL-UNNAMED", "-javaagent:" + AGENT, "Main"), explicit);
    }

    @Test
    void malformedCommandLinesAndSettingsAreOneClearError() {
        IllegalArgumentException noCommand = assertThrows(IllegalArgumentException.class,
                () -> RunCommand.build(List.of("--driver", "tap", "--"), AGENT, JAVA));
        assertTrue(noCommand.getMessage().contains("usage: slipstream run"), noCommand.getMessage());
        assertThrows(IllegalArgumentException.class, () -> RunCommand.build(List.of("--speed", "9", "--", "java"), AGENT, JAVA));
        assertThrows(IllegalArgumentException.class, () -> RunCommand.build(List.of("--", "python3", "x.py"), AGENT, JAVA));
        ConfigException cidr = assertThrows(ConfigException.class, () -> RunCommand.build(
                List.of("--driver", "memory", "--interface", "x", "--address", "198.18.5.2", "--", "java", "Main"), AGENT, JAVA));
        assertTrue(cidr.getMessage().contains("slipstream.address"), cidr.getMessage());
        // Only a driver that shares the host's interface (xdp) may leave the address out.
        ConfigException noAddress = assertThrows(ConfigException.class, () -> RunCommand.build(
                List.of("--driver", "memory", "--interface", "x", "--", "java", "Main"), AGENT, JAVA));
        assertTrue(noAddress.getMessage().startsWith("slipstream.address"), noAddress.getMessage());
        ConfigException policy = assertThrows(ConfigException.class,
                () -> RunCommand.build(List.of("--fallback", "maybe", "--", "java", "Main"), AGENT, JAVA));
        assertTrue(policy.getMessage().contains("--fallback"), policy.getMessage());
    }

    /**
     * A NIC the driver's check says cannot open (here: no such driver on this class path) stops
     * the launch in one line under {@code --fallback error}; under {@code kernel} the program is
     * started, and its first socket on the NIC says why it falls back.
     */
    @Test
    void aNicThatCannotOpenStopsTheLaunchOnlyUnderTheErrorPolicy() {
        List<String> options = List.of("--driver", "nosuchdriver", "--interface", "eth0", "--address", "198.18.5.2/24");
        List<String> strict = new ArrayList<>(options);
        strict.addAll(List.of("--fallback", "error", "--", "java", "Main"));
        NicException e = assertThrows(NicException.class, () -> RunCommand.build(strict, AGENT, JAVA));
        assertEquals(NicException.Kind.NO_DRIVER, e.kind());
        assertTrue(e.getMessage().startsWith("slipstream.driver: no NIC driver named 'nosuchdriver'"), e.getMessage());

        List<String> lenient = new ArrayList<>(options);
        lenient.addAll(List.of("--", "java", "Main"));
        List<String> cmd = RunCommand.build(lenient, AGENT, JAVA);
        assertTrue(cmd.contains("-Dslipstream.driver=nosuchdriver") && cmd.getLast().equals("Main"), cmd::toString);
    }

    @Test
    void runsAnUnmodifiedProgramOnTwoInMemoryStacks() throws Exception {
        Path out = dir.resolve("out.txt");
        List<String> args = new ArrayList<>(List.of("--driver", "memory", "--interface", "launched",
                "--address", "198.18.10.1/24,198.18.10.2/24", "--",
                "java", "-cp", System.getProperty("java.class.path"), DropInProgram.class.getName(), "198.18.10.2"));
        Path javaHome = Path.of(System.getProperty("java.home"), "bin", "java");
        // Run through the builder, with the output captured instead of inherited.
        Process p = new ProcessBuilder(RunCommand.build(args, AgentJars.premainOnly(dir), javaHome))
                .redirectErrorStream(true).redirectOutput(out.toFile()).start();
        assertTrue(p.waitFor(120, java.util.concurrent.TimeUnit.SECONDS), "the program did not finish");
        List<String> lines = Files.readAllLines(out);
        assertEquals(0, p.exitValue(), lines.toString());
        assertTrue(lines.contains("classic hello"), lines.toString());
        assertTrue(lines.contains("http 200 10485760 digest-ok"), lines.toString());
        assertTrue(lines.contains("fallbacks {}"), lines.toString());
    }
}
