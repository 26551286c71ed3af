package io.slipstream.shim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.slipstream.config.Settings;
import io.slipstream.config.StackConfig;
import io.slipstream.nic.NicCounter;
import io.slipstream.stack.Stack;
import io.slipstream.stack.StackCounter;
import io.slipstream.testing.NetNs;
import io.slipstream.testing.VethPair;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The differential suite over the xdp driver (issue 12): socket-shim's TCP, UDP, classic-socket,
 * selector and unreferenced-channel cases, unchanged, with the Slipstream side's frames on
 * AF_XDP sockets. Each nested class runs one of socket-shim's classes with the side
 * {@code slipstream-xdp} alone (socket-shim runs the JDK's, the memory driver's and the kernel
 * fallback's).
 *
 * <p>The side: one {@link SlipstreamSelectorProvider} with two stacks on the xdp driver, on the
 * two ends of a {@link VethPair}, each configured as a user would (driver and interface; the
 * address is the kernel's). The client stack (UDP: the client) is on the end in this network
 * namespace, 198.19.N.1; the server stack on the other end, 198.19.N.2, in the pair's namespace,
 * opened there ({@code slipstream.xdp.namespace}). So each kernel keeps its own address and
 * answers for it on the wire, as between two hosts: a RST for a closed port, an ICMP port
 * unreachable reach the other stack. (Two stacks in one namespace would each see the other's
 * address as the kernel's own, and the kernel's answers would never leave it.)
 *
 * <p>A silent fallback to the kernel cannot pass: after every case no socket fell back for a
 * reason that means the stacks were not used (a NIC that did not open, an address not routed to
 * a stack); after each class, frames went through the stacks' AF_XDP rings
 * ({@link FramesOverXdp}); at the end, no stack caught an internal error and closing returned
 * every buffer. (The multicast cases run on the kernel's {@code lo} on every side, Slipstream's
 * multicast being the kernel's; they are kept as they are.)
 */
class XdpDifferentialTest {
    /** Fallbacks that mean a socket meant for a stack ran on the kernel. */
    private static final Set<FallbackReason> NOT_ON_A_STACK = EnumSet.of(FallbackReason.NIC_DRIVER_MISSING,
            FallbackReason.NIC_NOT_PERMITTED, FallbackReason.NIC_BUSY, FallbackReason.NIC_NOT_FOUND,
            FallbackReason.NIC_MISCONFIGURED, FallbackReason.NIC_UNAVAILABLE, FallbackReason.NOT_ROUTED,
            FallbackReason.UNSUPPORTED_FAMILY);

    private static VethPair veth;
    private static List<StackConfig> stacks;
    private static Env xdp;
    private final Map<FallbackReason, Long> fallbacksBefore = new EnumMap<>(FallbackReason.class);

    @BeforeAll
    static void sandbox() throws Exception {
        Assumptions.assumeTrue(NetNs.isRoot(),
                "XDP tests need root (CAP_NET_ADMIN, CAP_BPF, CAP_SYS_ADMIN): skipped");
        Assumptions.assumeTrue(NetNs.onPath("ethtool"), "needs ethtool (bin/slipstream test installs it): skipped");
        veth = VethPair.create(1);
        stacks = List.of(config(Map.of("slipstream.interface", veth.local())),
                config(Map.of("slipstream.interface", veth.peer(), "slipstream.xdp.namespace", veth.ns().name())));
        InetAddress client = InetAddress.getByName(veth.localAddress());
        InetAddress server = InetAddress.getByName(veth.peerAddress());
        xdp = new Env("slipstream-xdp", new SlipstreamSelectorProvider(Settings.of(Map.of()), stacks), server, server,
                client);
        for (StackConfig c : stacks) {
            ShimStacks.get(c); // opened now, so a failure to open fails here, naming why
        }
    }

    private static StackConfig config(Map<String, String> where) {
        Map<String, String> m = new HashMap<>(where);
        m.put("slipstream.driver", "xdp");
        m.put("slipstream.buffer.trackLeaks", "true");
        return StackConfig.from(Settings.of(m));
    }

    /** Closes the stacks before their interfaces go, then checks what they left. */
    @AfterAll
    static void remove() {
        List<Stack> closed = new ArrayList<>();
        try {
            for (StackConfig c : stacks == null ? List.<StackConfig>of() : stacks) {
                ShimStacks.Opened opened = ShimStacks.attempt(c, false).opened();
                if (opened != null) {
                    opened.stack().close();
                    closed.add(opened.stack());
                }
            }
        } finally {
            if (veth != null) {
                veth.close();
            }
        }
        for (Stack stack : closed) {
            assertEquals(0, stack.counters().get(StackCounter.INTERNAL_ERRORS), () -> "" + stack.firstInternalError());
            assertEquals(List.of(), stack.nic().buffers().leaks());
        }
    }

    /** The side every nested class runs. */
    static Stream<Env> xdp() {
        return Stream.of(xdp);
    }

    @BeforeEach
    void countFallbacks() {
        fallbacksBefore.putAll(((SlipstreamSelectorProvider) xdp.provider()).fallback().counts());
    }

    @AfterEach
    void nothingMeantForAStackFellBack() {
        Map<FallbackReason, Long> now = ((SlipstreamSelectorProvider) xdp.provider()).fallback().counts();
        for (FallbackReason r : NOT_ON_A_STACK) {
            assertEquals(fallbacksBefore.getOrDefault(r, 0L), now.getOrDefault(r, 0L),
                    () -> "sockets fell back to the kernel (" + r + "): " + now);
        }
    }

    /**
     * Frames went through the stacks' AF_XDP rings while a nested class ran: sent by the client
     * stack and received by the server stack, and, for a class whose server answers, back.
     */
    static final class FramesOverXdp implements BeforeAllCallback, AfterAllCallback {
        private final boolean answered;
        private long[] before;

        private FramesOverXdp(boolean answered) {
            this.answered = answered;
        }

        static FramesOverXdp bothWays() {
            return new FramesOverXdp(true);
        }

        static FramesOverXdp clientToServer() {
            return new FramesOverXdp(false);
        }

        /** Client tx, server rx, server tx, client rx. */
        private static long[] read() {
            Stack client = ShimStacks.get(stacks.get(0)).stack();
            Stack server = ShimStacks.get(stacks.get(1)).stack();
            return new long[] {client.nic().stats().get(NicCounter.TX_FRAMES),
                server.nic().stats().get(NicCounter.RX_FRAMES), server.nic().stats().get(NicCounter.TX_FRAMES),
                client.nic().stats().get(NicCounter.RX_FRAMES)};
        }

        @Override
        public void beforeAll(ExtensionContext context) {
            before = read();
        }

        @Override
        public void afterAll(ExtensionContext context) {
            long[] after = read();
            String[] what = {"client stack's TX_FRAMES", "server stack's RX_FRAMES", "server stack's TX_FRAMES",
                "client stack's RX_FRAMES"};
            for (int i = 0; i < (answered ? 4 : 2); i++) {
                int k = i;
                assertTrue(after[k] > before[k], () -> what[k] + " did not grow: " + before[k] + " -> " + after[k]);
            }
        }
    }

    @Nested
    class Tcp extends TcpChannelDifferentialTest {
        @RegisterExtension
        static final FramesOverXdp FRAMES = FramesOverXdp.bothWays();

        static Stream<Env> envs() {
            return xdp();
        }
    }

    @Nested
    class Datagram extends DatagramChannelDifferentialTest {
        @RegisterExtension
        static final FramesOverXdp FRAMES = FramesOverXdp.bothWays();

        static Stream<Env> envs() {
            return xdp();
        }

        static Stream<Env> allEnvs() {
            return xdp();
        }
    }

    @Nested
    class ClassicSockets extends ClassicSocketDifferentialTest {
        @RegisterExtension
        static final FramesOverXdp FRAMES = FramesOverXdp.bothWays();

        static Stream<Env> envs() {
            return xdp();
        }
    }

    /** Its one case between the stacks sends a datagram to a selected channel, one way. */
    @Nested
    class Selectors extends SelectorSemanticsTest {
        @RegisterExtension
        static final FramesOverXdp FRAMES = FramesOverXdp.clientToServer();

        static Stream<Env> envs() {
            return xdp();
        }
    }

    @Nested
    class Unreferenced extends UnreferencedChannelDifferentialTest {
        @RegisterExtension
        static final FramesOverXdp FRAMES = FramesOverXdp.bothWays();

        static Stream<Env> envs() {
            return xdp();
        }
    }
}
