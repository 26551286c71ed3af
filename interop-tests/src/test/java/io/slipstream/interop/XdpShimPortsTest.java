package io.slipstream.interop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.slipstream.testing.KernelPorts;
import io.slipstream.testing.NetNs;
import io.slipstream.testing.VethPair;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The socket shim on an xdp stack, in a child JVM ({@link XdpShimPortsProgram}), against the
 * kernel's programs (this JVM's own JDK sockets, kernel sockets) on the same address: a port a
 * kernel program has fails the channel's bind, listen or connect as the JDK fails an address in
 * use; a port a channel holds is refused to the kernel program; a wildcard listener, whose
 * kernel socket holds its port for the stack too, listens on both.
 */
@Timeout(120)
class XdpShimPortsTest {
    private static final long STEP_SECONDS = 60;

    private VethPair veth;
    private Process child;
    private final BlockingQueue<String> said = new LinkedBlockingQueue<>();
    private final List<String> output = new ArrayList<>();

    @AfterEach
    void cleanUp() throws InterruptedException {
        try {
            if (child != null) {
                child.destroyForcibly();
                child.waitFor(10, TimeUnit.SECONDS);
            }
        } finally {
            if (veth != null) {
                veth.close();
            }
        }
    }

    @Test
    void portsAreTakenAsTheKernelsProgramsTakeThem() throws Exception {
        Assumptions.assumeTrue(NetNs.isRoot(), "XDP tests need root (CAP_NET_ADMIN, CAP_BPF): skipped");
        Assumptions.assumeTrue(NetNs.onPath("ethtool"), "needs ethtool: skipped");
        veth = VethPair.create(1);
        InetAddress local = InetAddress.getByName(veth.localAddress());
        try (KernelPorts.Taken taken = KernelPorts.Taken.on(local)) {
            int t = taken.tcp();
            int u = taken.udp();
            start(veth.local(), veth.localAddress() + "/24", veth.peerAddress(), Integer.toString(t), Integer.toString(u));
            String heldOutside = "TCP port " + t + " of " + veth.localAddress()
                    + " is held outside the stack: another program's kernel socket has it";
            assertEquals("listen java.net.BindException: Address already in use (cause: " + heldOutside + "), open true",
                    await("listen"), "bind fails and the channel stays open, as the JDK's");
            assertEquals("bind java.net.BindException: Address already in use (cause: Address already in use: UDP port " + u
                    + " of " + veth.localAddress() + " is held outside the stack: another program's kernel socket has it),"
                    + " open true", await("bind"));
            assertEquals("connect java.net.BindException: Address already in use (cause: " + heldOutside + "), open false",
                    await("connect"), "a connect that fails closes the channel, as the JDK's");
        }

        String line = await("holding");
        assertTrue(line.endsWith(" accelerated]"), line);
        String[] holding = line.split(" ");
        int listening = Integer.parseInt(holding[1]);
        int bound = Integer.parseInt(holding[2]);
        assertEquals(List.of(), KernelPorts.tcpBinds(local, listening), "a kernel program cannot take the listener's port");
        assertEquals(List.of(), KernelPorts.udpBinds(local, bound), "nor the datagram channel's");
        proceed();
        await("closed");
        assertEquals(KernelPorts.EVERY_WAY, KernelPorts.tcpBinds(local, listening), "closed: the kernel's again");
        assertEquals(KernelPorts.EVERY_WAY, KernelPorts.udpBinds(local, bound));
        proceed();

        String wildcard = await("wildcard");
        assertTrue(wildcard.contains(" kernel accelerated]"), wildcard);
        await("done");
        assertTrue(child.waitFor(STEP_SECONDS, TimeUnit.SECONDS));
        assertEquals(0, child.exitValue(), () -> String.join("\n", output));
    }

    private void start(String... args) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "-cp",
                System.getProperty("surefire.test.class.path", System.getProperty("java.class.path")),
                XdpShimPortsProgram.class.getName()));
        cmd.addAll(List.of(args));
        child = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        Thread.ofPlatform().daemon().start(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line = r.readLine(); line != null; line = r.readLine()) {
                    synchronized (output) {
                        output.add(line);
                    }
                    if (line.startsWith("> ")) {
                        said.add(line.substring(2));
                    }
                }
            } catch (IOException gone) {
                // the child ended; what it said is in output
            }
        });
    }

    /** The next line the program said, which must start with {@code what}. */
    private String await(String what) throws InterruptedException {
        String line = said.poll(STEP_SECONDS, TimeUnit.SECONDS);
        if (line == null || !line.startsWith(what)) {
            synchronized (output) {
                throw new AssertionError("expected " + what + ", got " + line + "; the program said:\n"
                        + String.join("\n", output));
            }
        }
        return line;
    }

    private void proceed() throws IOException {
        Writer w = new OutputStreamWriter(child.getOutputStream(), StandardCharsets.UTF_8);
        w.write("\n");
        w.flush();
    }
}
