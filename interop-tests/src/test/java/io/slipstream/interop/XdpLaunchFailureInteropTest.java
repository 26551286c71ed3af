package io.slipstream.interop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.slipstream.testing.AgentJars;
import io.slipstream.testing.ForeignXdpProgram;
import io.slipstream.testing.NetNs;
import io.slipstream.testing.VethPair;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code bin/slipstream run --driver xdp} where the xdp driver cannot open: a missing interface,
 * a process without the capabilities (the whole launch under {@code setpriv} with every
 * capability dropped), an interface another tool has attached an XDP program to. Each time the
 * user is told in one line what is wrong, and {@code slipstream.fallback} decides what follows:
 * under {@code kernel} the program runs, its sockets on the kernel, counted under the reason,
 * the line told once on standard error; under {@code error} the launcher refuses in that one
 * line, with a non-zero status, before the program starts. Without the launcher (the agent and
 * {@code -Dslipstream.*} only), {@code error} refuses the program's sockets with the driver's
 * message. The program fetches from a kernel HTTP server in the veth pair's other namespace.
 */
@Timeout(300)
class XdpLaunchFailureInteropTest {
    private static final Duration STEP = Duration.ofSeconds(90);
    private static final List<String> NO_CAPABILITIES = List.of("setpriv", "--inh-caps=-all", "--bounding-set=-all");

    @TempDir
    Path dir;
    private VethPair veth;
    private KernelHttpServer server;
    private ForeignXdpProgram foreign;

    @BeforeEach
    void sandbox() throws Exception {
        Assumptions.assumeTrue(NetNs.isRoot(), "XDP tests need root: skipped");
        Assumptions.assumeTrue(NetNs.onPath("curl") && NetNs.onPath("python3") && NetNs.onPath("ethtool")
                && NetNs.onPath("setpriv") && NetNs.onPath("mount"),
                "needs curl, python3, ethtool, setpriv and mount (bin/slipstream test installs them): skipped");
        veth = VethPair.create(1);
        server = KernelHttpServer.start(veth.ns(), veth.peerAddress(), 8000, dir, 1 << 20, 5);
    }

    @AfterEach
    void cleanUp() {
        try {
            if (foreign != null) {
                foreign.close();
            }
            if (server != null) {
                server.close();
            }
        } finally {
            veth.close();
        }
    }

    @Test
    void aMissingInterfaceIsNamed() {
        String missing = "sx" + NetNs.randomHex(8) + "z";
        String named = "xdp " + missing + ": no such interface";
        runsOnTheKernelToldOnce(launch(List.of(), missing, "kernel"), "NIC_NOT_FOUND", named);
        refusedInOneLine(launch(List.of(), missing, "error"), "slipstream: " + named);
    }

    @Test
    void aProcessWithoutTheCapabilitiesIsToldWhichItLacks() {
        String lacks = "xdp " + veth.local() + ": this process lacks CAP_NET_ADMIN, CAP_NET_RAW, CAP_BPF";
        runsOnTheKernelToldOnce(launch(NO_CAPABILITIES, veth.local(), "kernel"), "NIC_NOT_PERMITTED", lacks);
        refusedInOneLine(launch(NO_CAPABILITIES, veth.local(), "error"), "slipstream: " + lacks);
    }

    @Test
    void anotherToolsXdpProgramIsNamedWithTheCommandThatRemovesIt() {
        foreign = ForeignXdpProgram.attach(veth.local(), "other_tool");
        String named = "xdp " + veth.local() + ": another XDP program is already attached to the interface: 'other_tool'";
        String remedy = "detach it with `" + foreign.detachCommand() + "`";
        runsOnTheKernelToldOnce(launch(List.of(), veth.local(), "kernel"), "NIC_BUSY", named, remedy);
        refusedInOneLine(launch(List.of(), veth.local(), "error"), "slipstream: " + named, remedy);
        assertTrue(veth.showLocal().contains("prog/xdp"), "the other tool's program stays: " + veth.showLocal());
    }

    /** The agent alone, {@code slipstream.fallback=error}: the program's sockets are refused with the driver's line. */
    @Test
    void withoutTheLauncherTheErrorPolicyRefusesTheSocketsWithTheSameLine() throws Exception {
        foreign = ForeignXdpProgram.attach(veth.local(), "other_tool");
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "-javaagent:" + AgentJars.premainOnly(dir),
                "-Dslipstream.driver=xdp", "-Dslipstream.interface=" + veth.local(), "-Dslipstream.fallback=error",
                "-cp", System.getProperty("java.class.path"), TapHttpProgram.class.getName(), "fetch-now", server.url()));
        ChildProgram.Ended ended = ChildProgram.run(cmd, Map.of(), STEP);
        assertNotEquals(0, ended.exitCode(), ended::all);
        String named = "xdp " + veth.local() + ": another XDP program is already attached to the interface: 'other_tool'";
        List<String> told = ended.err().stream().filter(l -> l.startsWith("slipstream: ")).toList();
        assertEquals(1, told.size(), ended::all);
        assertTrue(told.get(0).contains(named) && told.get(0).endsWith("its sockets are refused (slipstream.fallback=error)"),
                ended::all);
        assertTrue(ended.err().stream().anyMatch(l -> l.contains("SocketException: slipstream.fallback=error")
                && l.contains("the Slipstream NIC is held by another process: " + named)), ended::all);
        assertTrue(ended.out().stream().noneMatch(l -> l.startsWith("FETCHED")), ended::all);
    }

    /** The fetch through {@code bin/slipstream run} with the xdp driver on {@code iface}, started under {@code prefix}. */
    private ChildProgram.Ended launch(List<String> prefix, String iface, String fallback) {
        List<String> options = new ArrayList<>(DropInInteropTest.onXdp(iface));
        options.addAll(List.of("--fallback", fallback));
        List<String> cmd = new ArrayList<>(prefix);
        cmd.addAll(TapHttpProgram.launched(options, "fetch-now", server.url()));
        return ChildProgram.run(cmd, TapHttpProgram.PACKAGED, STEP);
    }

    /** Under kernel: both fetches intact on the kernel, counted under {@code reason}, and one line on standard error. */
    private void runsOnTheKernelToldOnce(ChildProgram.Ended ended, String reason, String... named) {
        assertEquals(0, ended.exitCode(), ended::all);
        assertEquals(2, ended.out().stream().filter(server.fetchedLine()::equals).count(), ended::all);
        assertTrue(ended.out().contains("fallbacks {" + reason + "=2}"), ended::all);
        assertEquals(1, ended.err().size(), () -> "one line on standard error: " + ended.all());
        String line = ended.err().get(0);
        assertTrue(line.startsWith("slipstream: warning: cannot open the xdp NIC "), line);
        assertTrue(line.contains("(" + reason + ")"), line);
        for (String n : named) {
            assertTrue(line.contains(n), () -> "names " + n + ": " + line);
        }
        assertTrue(line.endsWith("; its sockets run on the kernel (slipstream.fallback=kernel)"), line);
    }

    /** Under error: the launcher's one line, a non-zero status, and no program (also the packet driver's test). */
    static void refusedInOneLine(ChildProgram.Ended ended, String start, String... named) {
        assertEquals(1, ended.exitCode(), ended::all);
        assertEquals(List.of(), ended.out(), "the program never started: " + ended.all());
        assertEquals(1, ended.err().size(), () -> "one line: " + ended.all());
        String line = ended.err().get(0);
        assertTrue(line.startsWith(start), () -> "starts with " + start + ": " + line);
        for (String n : named) {
            assertTrue(line.contains(n), () -> "names " + n + ": " + line);
        }
    }
}
