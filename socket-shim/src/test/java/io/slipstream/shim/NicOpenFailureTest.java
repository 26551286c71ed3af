package io.slipstream.shim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.slipstream.config.ConfigException;
import io.slipstream.config.Settings;
import io.slipstream.config.StackConfig;
import io.slipstream.nic.NicException;
import io.slipstream.wire.Ipv4Address;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.net.SocketException;
import java.nio.channels.DatagramChannel;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/**
 * A NIC that cannot be opened sends the sockets routed to it to the kernel under a reason that
 * names the failure, told once in one line on standard error, or refuses them with that cause under
 * {@code slipstream.fallback=error} — never a NullPointerException from the fallback path.
 * Here the NIC is busy: a memory link whose two ends are already held by two stacks (as a TAP
 * device held by another process; {@code TapFallbackInteropTest} runs that case for real).
 */
class NicOpenFailureTest {
    private static final String HELD_LINK = "nicbusy";
    private static final String THIRD = "198.18.12.3";
    private static final String FOURTH = "198.18.12.4";

    /** Opens both ends of the link for this JVM's life (the shim keeps its stacks open). */
    private static void holdLink() {
        ShimStacks.get(Env.config(HELD_LINK, "198.18.12.1/24"));
        ShimStacks.get(Env.config(HELD_LINK, "198.18.12.2/24"));
    }

    @Test
    void aBusyNicSendsItsSocketsToTheKernelUnderOneNamedReasonToldOnceInOneLine() throws Throwable {
        holdLink();
        StackConfig third = Env.config(HELD_LINK, THIRD + "/24");
        SlipstreamSelectorProvider p = new SlipstreamSelectorProvider(Settings.of(Map.of()), List.of(third));
        List<String> told = standardErrorOf(() -> {
            InetSocketAddress local = new InetSocketAddress(THIRD, 0);
            // On the kernel, which does not hold the stack's address: the kernel's own error.
            try (SocketChannel sc = p.openSocketChannel()) {
                assertThrows(BindException.class, () -> sc.bind(local));
            }
            try (ServerSocketChannel ssc = p.openServerSocketChannel()) {
                assertThrows(BindException.class, () -> ssc.bind(local));
            }
            try (DatagramChannel dc = p.openDatagramChannel()) {
                assertThrows(BindException.class, () -> dc.bind(local));
            }
        });
        assertEquals(Map.of(FallbackReason.NIC_BUSY, 3L), p.fallback().counts());
        assertEquals(1, told.size(), () -> "the cause is told once, in one line, when the NIC fails to open: " + told);
        String line = told.get(0);
        assertTrue(line.startsWith("slipstream: warning: cannot open the memory NIC " + HELD_LINK + " for " + THIRD
                + "/24 (NIC_BUSY): "), line);
        assertTrue(line.contains("already has two ends"), line);
        assertTrue(line.endsWith("; its sockets run on the kernel (slipstream.fallback=kernel)"), line);
    }

    @Test
    void underTheErrorPolicyABusyNicIsRefusedWithItsCause() throws Throwable {
        holdLink();
        SlipstreamSelectorProvider strict = new SlipstreamSelectorProvider(
                Settings.of(Map.of(Fallback.MODE.name(), "error")), List.of(Env.config(HELD_LINK, FOURTH + "/24")));
        List<String> told = standardErrorOf(() -> {
            try (ServerSocketChannel ssc = strict.openServerSocketChannel()) {
                SocketException e = assertThrows(SocketException.class, () -> ssc.bind(new InetSocketAddress(FOURTH, 0)));
                assertTrue(e.getMessage().startsWith("slipstream.fallback=error"), e.getMessage());
                assertTrue(e.getMessage().contains(FallbackReason.NIC_BUSY.text()), e.getMessage());
                assertTrue(e.getMessage().contains("already has two ends"), e.getMessage());
                assertInstanceOf(NicException.class, e.getCause());
            }
            try (SocketChannel sc = strict.openSocketChannel()) {
                assertThrows(SocketException.class, () -> sc.bind(new InetSocketAddress(FOURTH, 0)));
            }
        });
        assertEquals(Map.of(), strict.fallback().counts());
        assertEquals(1, told.size(), told::toString);
        assertTrue(told.get(0).endsWith("; its sockets are refused (slipstream.fallback=error)"), told.get(0));
    }

    /** What {@code body} printed on System.err that names the held link, line by line. */
    private static List<String> standardErrorOf(Executable body) throws Throwable {
        return standardErrorOf(body, HELD_LINK);
    }

    /** What {@code body} printed on System.err that names {@code link}, line by line. */
    private static List<String> standardErrorOf(Executable body, String link) throws Throwable {
        PrintStream original = System.err;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
        try {
            body.execute();
        } finally {
            System.setErr(original);
        }
        return captured.toString(StandardCharsets.UTF_8).lines().filter(l -> l.contains(link)).toList();
    }

    @Test
    void aDriverThatIsNotThereIsItsOwnReason() throws IOException {
        SlipstreamSelectorProvider p = new SlipstreamSelectorProvider(Settings.of(Map.of()),
                List.of(onAMissingDriver("x", "198.18.13.1/24")));
        try (DatagramChannel dc = p.openDatagramChannel()) {
            assertThrows(BindException.class, () -> dc.bind(new InetSocketAddress("198.18.13.1", 0)));
        }
        assertEquals(Map.of(FallbackReason.NIC_DRIVER_MISSING, 1L), p.fallback().counts());
    }

    /**
     * A stack whose address is left to the host (xdp without slipstream.address) is
     * opened to learn it when a socket is routed; when it cannot open, every socket that is not
     * the kernel's anyway (loopback, a wildcard bind) falls back under the NIC's reason, as it
     * would with a configured address, and the warning names no address.
     */
    @Test
    void aStackWhoseAddressIsLeftToTheHostButCannotOpenGivesEverySocketTheNicsReason() throws Throwable {
        StackConfig given = onAMissingDriver("hostshared", "198.18.14.1/24");
        // As StackConfig.from leaves it for a driver that shares the host's interface (none is on this class path).
        StackConfig leftToHost = new StackConfig(given.driver(), given.interfaceName(), Ipv4Address.ANY,
                StackConfig.FROM_HOST, Ipv4Address.ANY, given.mac(), given.settings());
        SlipstreamSelectorProvider p = new SlipstreamSelectorProvider(Settings.of(Map.of()), List.of(leftToHost));
        List<String> told = standardErrorOf(() -> {
            try (DatagramChannel dc = p.openDatagramChannel()) {
                assertThrows(BindException.class, () -> dc.bind(new InetSocketAddress("198.18.14.1", 0)));
            }
            try (DatagramChannel dc = p.openDatagramChannel()) {
                dc.bind(new InetSocketAddress("127.0.0.1", 0));
            }
            try (DatagramChannel dc = p.openDatagramChannel()) {
                dc.bind(new InetSocketAddress(0));
            }
        }, "hostshared");
        assertEquals(Map.of(FallbackReason.NIC_DRIVER_MISSING, 1L, FallbackReason.LOOPBACK, 1L,
                FallbackReason.WILDCARD_BIND, 1L), p.fallback().counts());
        assertEquals(1, told.size(), told::toString);
        assertTrue(told.get(0).startsWith("slipstream: warning: cannot open the no-such-driver NIC hostshared (NIC_DRIVER_MISSING): "),
                told.get(0));
    }

    /** A stack on {@code iface} with {@code cidr} whose driver is on no class path. */
    private static StackConfig onAMissingDriver(String iface, String cidr) {
        Map<String, String> m = new HashMap<>();
        m.put("slipstream.driver", "no-such-driver");
        m.put("slipstream.interface", iface);
        m.put("slipstream.address", cidr);
        return StackConfig.from(Settings.of(m));
    }

    /** Every kind of NIC failure, and a rejected setting, has a reason of its own. */
    @Test
    void everyWayOpeningCanFailIsANamedReason() {
        Map<NicException.Kind, FallbackReason> expected = Map.of(
                NicException.Kind.NO_DRIVER, FallbackReason.NIC_DRIVER_MISSING,
                NicException.Kind.NOT_PERMITTED, FallbackReason.NIC_NOT_PERMITTED,
                NicException.Kind.BUSY, FallbackReason.NIC_BUSY,
                NicException.Kind.NOT_FOUND, FallbackReason.NIC_NOT_FOUND,
                NicException.Kind.INVALID_CONFIG, FallbackReason.NIC_MISCONFIGURED,
                NicException.Kind.FAILED, FallbackReason.NIC_UNAVAILABLE);
        assertEquals(NicException.Kind.values().length, expected.size());
        expected.forEach((kind, reason) -> assertEquals(reason, ShimStacks.reasonFor(new NicException(kind, "x"))));
        assertEquals(FallbackReason.NIC_MISCONFIGURED, ShimStacks.reasonFor(new ConfigException("slipstream.mtu: x")));
        assertEquals(FallbackReason.NIC_UNAVAILABLE, ShimStacks.reasonFor(new IllegalStateException("x")));
    }
}
