package io.slipstream.driver.xdp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.slipstream.buffer.BufferPool;
import io.slipstream.config.Settings;
import io.slipstream.config.StackConfig;
import io.slipstream.nic.NicCounter;
import io.slipstream.nic.NicDriver;
import io.slipstream.nic.NicException;
import io.slipstream.stack.Stack;
import io.slipstream.testing.KernelPorts;
import io.slipstream.time.Clock;
import io.slipstream.testing.ForeignXdpProgram;
import io.slipstream.testing.NetNs;
import io.slipstream.wire.Ipv4Address;
import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The interface is never left broken: close, SIGKILL (of a process holding the driver, and of
 * one running a whole stack with ports held in the kernel), and a program someone else attached.
 */
@Timeout(120)
class XdpLifecycleTest {
    private XdpSandbox box;
    private Process child;
    private Path childOut;

    @BeforeEach
    void sandbox() {
        XdpSandbox.assumeRoot();
        box = XdpSandbox.create(1);
    }

    @AfterEach
    void cleanUp() throws IOException {
        try {
            if (child != null && child.isAlive()) {
                child.destroyForcibly();
            }
            if (childOut != null) {
                Files.deleteIfExists(childOut);
            }
        } finally {
            if (box != null) {
                box.close();
            }
        }
    }

    @Test
    void closeDetachesTheProgramAndReturnsEveryBuffer() throws InterruptedException {
        XdpInterface vi = box.open();
        assertTrue(box.linkShow().contains("prog/xdp"), box::linkShow);
        assertEquals(1, vi.stats().get(NicCounter.XDP_COPY_QUEUES) + vi.stats().get(NicCounter.XDP_ZEROCOPY_QUEUES));
        BufferPool pool = vi.buffers();
        box.pump();
        assertEquals(XdpSandbox.RX_FILL, vi.rx().posted());
        vi.close();
        assertEquals(0, pool.outstanding(), () -> "still out: " + pool.leaks());
        vi.close(); // idempotent
        assertFalse(box.linkShow().contains("prog/xdp"), box::linkShow);
        assertEquals(0, vi.events().poll(box.events, 64), "no event after close");
        assertThrows(NicException.class, () -> vi.tx().doorbell());
        assertThrows(IllegalStateException.class, () -> pool.buffer(0).segment().get(ValueLayout.JAVA_BYTE, 0),
                "the UMEM is unmapped: a stray access throws instead of crashing the JVM");
        box.vi = null;
        pingPeer();
    }

    @Test
    void aSigkilledHolderLeavesTheInterfaceCleanAndTheNextOpenWorks() throws Exception {
        startHolder();
        assertTrue(box.linkShow().contains("prog/xdp"), box::linkShow);

        child.destroyForcibly(); // SIGKILL: no shutdown hook, no close()
        assertTrue(child.waitFor(30, TimeUnit.SECONDS), "the child ends");
        awaitDetached();
        pingPeer();

        XdpInterface vi = box.open();
        assertTrue(box.linkShow().contains("prog/xdp"), box::linkShow);
        assertTrue(vi.queueIds().length >= 1);
    }

    /**
     * A child JVM running a stack (a listener, a bound UDP port, a connection established from
     * an ephemeral port to a server in the peer's namespace, each held in the kernel) is killed
     * with SIGKILL: the kernel gets back the interface (ping), every port (a kernel server on the
     * listener's port of the same address serves the peer), and the next stack starts on the
     * same interface with the same ports.
     */
    @Test
    void aSigkilledStackLeavesItsPortsAndTheInterfaceToTheKernel() throws Exception {
        InetAddress local = InetAddress.getByName(box.veth.localAddress());
        int tcpPort = 20000 + ThreadLocalRandom.current().nextInt(10000);
        int udpPort = tcpPort + 1;
        int peerPort = tcpPort + 2;
        try (NetNs.Background peerServer = box.ns.start("python3", "-c", String.join("\n",
                "import socket, sys, time",
                "s = socket.socket(); s.bind(('', int(sys.argv[1]))); s.listen(1); print('listening', flush=True)",
                "c, _ = s.accept(); time.sleep(60)"), Integer.toString(peerPort))) {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (!peerServer.output().contains("listening")) {
                if (!peerServer.isAlive() || System.nanoTime() - deadline > 0) {
                    fail("the peer's server did not start: " + peerServer.output());
                }
                Thread.sleep(20);
            }
            killedStackLeavesItAll(local, tcpPort, udpPort, peerPort);
        }
    }

    private void killedStackLeavesItAll(InetAddress local, int tcpPort, int udpPort, int peerPort) throws Exception {
        String ready = startProbe(XdpStackHoldProbe.class, "ready", box.local, box.veth.localAddress() + "/24",
                box.veth.peerAddress(), Integer.toString(tcpPort), Integer.toString(udpPort), Integer.toString(peerPort));
        int outgoingPort = Integer.parseInt(ready.substring("ready ".length()).strip());
        assertEquals(List.of(), KernelPorts.tcpBinds(local, tcpPort), "the child holds its listener's port");
        assertEquals(List.of(), KernelPorts.udpBinds(local, udpPort), "and its UDP port");
        assertEquals(List.of(), KernelPorts.tcpBinds(local, outgoingPort), "and its connection's");

        child.destroyForcibly(); // SIGKILL: no shutdown hook, no close()
        assertTrue(child.waitFor(30, TimeUnit.SECONDS), "the child ends");
        awaitDetached();
        pingPeer();
        assertEquals(KernelPorts.EVERY_WAY, KernelPorts.tcpBinds(local, outgoingPort), "its ports went with it");
        assertEquals(KernelPorts.EVERY_WAY, KernelPorts.udpBinds(local, udpPort));
        assertEquals("client read kernel says hello, server read hello", box.kernelTcpExchange(tcpPort),
                "a kernel server on the same address and port serves the peer");

        Stack next = Stack.open(StackConfig.from(Settings.of(Map.of("slipstream.driver", "xdp",
                "slipstream.interface", box.local, "slipstream.address", box.veth.localAddress() + "/24"))));
        try {
            next.enter();
            try {
                next.tcp().listen(tcpPort, 4);
                next.udp().open().bind(udpPort);
            } finally {
                next.exit();
            }
            XdpFilters filters = ((XdpInterface) next.nic()).filters();
            assertTrue(filters.hasListener(XdpFilters.PROTO_TCP, box.localIp, tcpPort));
            assertEquals(List.of(), KernelPorts.tcpBinds(local, tcpPort), "the next stack holds the same port");
            assertEquals(List.of(), KernelPorts.udpBinds(local, udpPort));
        } finally {
            next.close();
        }
        assertFalse(box.linkShow().contains("prog/xdp"), box::linkShow);
        assertEquals(KernelPorts.EVERY_WAY, KernelPorts.udpBinds(local, udpPort), "and gives them back at close");
        // The kernel server's connection from before may still be in TIME-WAIT: a JDK listener
        // (SO_REUSEADDR) binds past it, as the next stack's hold did.
        List<String> tcpWays = KernelPorts.tcpBinds(local, tcpPort);
        assertTrue(tcpWays.containsAll(List.of("address SO_REUSEADDR", "wildcard SO_REUSEADDR")), tcpWays::toString);
    }

    @Test
    void anotherProgramOnTheInterfaceIsNeverReplaced() throws Exception {
        startHolder();
        NicException e = assertThrows(NicException.class, () -> box.open());
        assertTrue(e.getMessage().startsWith("xdp " + box.local + ": another XDP program is already attached to the interface"),
                e.getMessage());
        assertEquals(NicException.Kind.BUSY, e.kind(), "the shim falls back under NIC_BUSY");
        assertTrue(e.getMessage().contains("'slipstream' (program id "), "names the program: " + e.getMessage());
        assertTrue(e.getMessage().contains("through a BPF link held by process " + child.pid() + " (java)"),
                "names the process holding it: " + e.getMessage());
        assertTrue(e.getMessage().contains("end process " + child.pid()), "says how to remove it: " + e.getMessage());
        assertFalse(e.getMessage().contains("\n"), "one line");
        assertTrue(box.linkShow().contains("prog/xdp"), "the other program stays: " + box.linkShow());
        assertTrue(child.isAlive(), "its owner is undisturbed");
    }

    /**
     * A program another tool attached through netlink (iproute2 here) is named, with the
     * command that detaches it; once its owner runs that command, the interface is Slipstream's.
     */
    @Test
    void aProgramAttachedByAnotherToolIsNamedWithTheCommandThatDetachesIt() {
        try (ForeignXdpProgram other = ForeignXdpProgram.attach(box.local, "other_tool")) {
            NicException e = assertThrows(NicException.class, () -> NicDriver.byName("xdp").check(box.local, Map.of()));
            assertEquals(NicException.Kind.BUSY, e.kind(), e.getMessage());
            assertTrue(e.getMessage().contains("'other_tool' (program id "), e.getMessage());
            assertTrue(e.getMessage().contains("generic mode"), e.getMessage());
            assertTrue(e.getMessage().contains("detach it with `" + other.detachCommand() + "`"), e.getMessage());
            NicException onOpen = assertThrows(NicException.class, () -> box.open());
            assertEquals(e.getMessage(), onOpen.getMessage(), "open refuses with the same line");
            assertTrue(box.linkShow().contains("prog/xdp"), "the other program stays: " + box.linkShow());

            NetNs.run(other.detachCommand().split(" ")).orThrow();
            XdpInterface vi = box.open();
            assertTrue(vi.queueIds().length >= 1);
        }
    }

    @Test
    void anInterfaceThatDoesNotExistIsNamed() {
        String name = "sx" + NetNs.randomHex(8) + "z";
        NicException e = assertThrows(NicException.class,
                () -> NicDriver.byName("xdp").open(XdpSandbox.config(name, Map.of()), Clock.SYSTEM));
        assertTrue(e.getMessage().startsWith("xdp " + name + ": no such interface"), e.getMessage());
        assertEquals(NicException.Kind.NOT_FOUND, e.kind(), "the shim falls back under NIC_NOT_FOUND");
        NicException checked = assertThrows(NicException.class, () -> NicDriver.byName("xdp").check(name, Map.of()));
        assertEquals(e.getMessage(), checked.getMessage(), "the launcher's check says the same");
    }

    private void startHolder() throws IOException, InterruptedException {
        startProbe(XdpHoldProbe.class, "attached", box.local);
    }

    /** Runs {@code probe} in a child JVM until it prints a line starting with {@code ready}; returns that line. */
    private String startProbe(Class<?> probe, String ready, String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "-cp",
                System.getProperty("surefire.test.class.path", System.getProperty("java.class.path")), probe.getName()));
        command.addAll(List.of(args));
        childOut = Files.createTempFile("slipstream-xdp-probe-", ".out");
        child = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(childOut.toFile()).start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (true) {
            for (String line : Files.readAllLines(childOut)) {
                if (line.startsWith(ready)) {
                    return line;
                }
            }
            if (!child.isAlive() || System.nanoTime() - deadline > 0) {
                fail(probe.getSimpleName() + " never said " + ready + ": " + Files.readString(childOut));
            }
            Thread.sleep(20);
        }
    }

    /** The kernel releases a dead process's link as it closes its descriptors; allow it a moment. */
    private void awaitDetached() throws InterruptedException {
        for (int i = 0; i < 250 && box.linkShow().contains("prog/xdp"); i++) {
            Thread.sleep(20);
        }
        assertFalse(box.linkShow().contains("prog/xdp"), "no program left: " + box.linkShow());
    }

    private void pingPeer() {
        NetNs.Result ping = box.ns.exec("ping", "-c", "1", "-W", "2", Ipv4Address.format(box.localIp));
        assertTrue(ping.ok(), ping::toString);
    }
}
