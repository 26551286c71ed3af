package io.slipstream.shim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.slipstream.config.Settings;
import io.slipstream.config.StackConfig;
import io.slipstream.linux.NetNamespace;
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
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.AfterParameterizedClassInvocation;
import org.junit.jupiter.params.BeforeParameterizedClassInvocation;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The differential suite over the NIC drivers that run on an existing interface (issues 12 and
 * 15): socket-shim's TCP, UDP, classic-socket, selector and unreferenced-channel cases,
 * unchanged, with the Slipstream side's frames on the {@code xdp} driver's AF_XDP sockets, then
 * on the {@code packet} driver's AF_PACKET rings. Each nested class runs one of socket-shim's
 * classes with that side alone (socket-shim runs the JDK's, the memory driver's and the kernel
 * fallback's).
 *
 * <p>The side: one {@link SlipstreamSelectorProvider} with two stacks on the driver, on the two
 * ends of a {@link VethPair}, each configured as a user would. The client stack (UDP: the
 * client) is on the end in this network namespace, the server stack on the other end, in the
 * pair's namespace, opened there. On xdp each takes the kernel's address of its end (198.19.N.1,
 * .2), opened in the namespace by {@code slipstream.xdp.namespace}, so each kernel keeps its own
 * address and answers for it on the wire, as between two hosts: a RST for a closed port, an ICMP
 * port unreachable reach the other stack. (Two stacks in one namespace would each see the
 * other's address as the kernel's own, and the kernel's answers would never leave it.) On packet
 * each has an address of its own beside the kernel's (198.19.N.3, .4) and answers for it itself;
 * the server stack's socket is made by a thread that entered the pair's namespace (a socket
 * keeps the namespace it was made in).
 *
 * <p>A silent fallback to the kernel cannot pass: after every case no socket fell back for a
 * reason that means the stacks were not used (a NIC that did not open, an address not routed to
 * a stack); after each class, frames went through the stacks' rings ({@link FramesOverTheNic});
 * at the end of each driver's run, no stack caught an internal error and closing returned every
 * buffer. (The multicast cases run on the kernel's {@code lo} on every side, Slipstream's
 * multicast being the kernel's; they are kept as they are.)
 */
@ParameterizedClass(name = "{0}")
@ValueSource(strings = {"xdp", "packet"})
class VethDifferentialTest {
    /** Fallbacks that mean a socket meant for a stack ran on the kernel. */
    private static final Set<FallbackReason> NOT_ON_A_STACK = EnumSet.of(FallbackReason.NIC_DRIVER_MISSING,
            FallbackReason.NIC_NOT_PERMITTED, FallbackReason.NIC_BUSY, FallbackReason.NIC_NOT_FOUND,
            FallbackReason.NIC_MISCONFIGURED, FallbackReason.NIC_UNAVAILABLE, FallbackReason.NOT_ROUTED,
            FallbackReason.UNSUPPORTED_FAMILY);

    /** The driver of this run; the sandbox below is the run's, set before its nested classes start. */
    @Parameter
    String driver;

    private static VethPair veth;
    private static List<StackConfig> stacks;
    private static Env side;
    private final Map<FallbackReason, Long> fallbacksBefore = new EnumMap<>(FallbackReason.class);

    @BeforeParameterizedClassInvocation
    static void sandbox(String driver) throws Exception {
        Assumptions.assumeTrue(NetNs.isRoot(),
                driver + " tests need root (CAP_NET_ADMIN, CAP_NET_RAW, CAP_BPF, CAP_SYS_ADMIN): skipped");
        Assumptions.assumeTrue(NetNs.onPath("ethtool"), "needs ethtool (bin/slipstream test installs it): skipped");
        veth = VethPair.create(1);
        String subnet = veth.localAddress().substring(0, veth.localAddress().lastIndexOf('.') + 1);
        String client = driver.equals("xdp") ? veth.localAddress() : subnet + "3";
        String server = driver.equals("xdp") ? veth.peerAddress() : subnet + "4";
        StackConfig clientStack = driver.equals("xdp") ? config(driver, veth.local(), Map.of())
                : config(driver, veth.local(), Map.of("slipstream.address", client + "/24"));
        StackConfig serverStack = driver.equals("xdp")
                ? config(driver, veth.peer(), Map.of("slipstream.xdp.namespace", veth.ns().name()))
                : config(driver, veth.peer(), Map.of("slipstream.address", server + "/24"));
        stacks = List.of(clientStack, serverStack);
        side = new Env("slipstream-" + driver, new SlipstreamSelectorProvider(Settings.of(Map.of()), stacks),
                InetAddress.getByName(server), InetAddress.getByName(server), InetAddress.getByName(client));
        // Opened now, so a failure to open fails here, naming why.
        ShimStacks.get(clientStack);
        if (driver.equals("xdp")) {
            ShimStacks.get(serverStack);
        } else {
            NetNamespace.call(NetNamespace.named(veth.ns().name()), () -> ShimStacks.get(serverStack));
        }
    }

    private static StackConfig config(String driver, String iface, Map<String, String> more) {
        Map<String, String> m = new HashMap<>(more);
        m.put("slipstream.driver", driver);
        m.put("slipstream.interface", iface);
        m.put("slipstream.buffer.trackLeaks", "true");
        return StackConfig.from(Settings.of(m));
    }

    /** Closes the stacks before their interfaces go, then checks what they left. */
    @AfterParameterizedClassInvocation
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
            veth = null;
            stacks = null;
            side = null;
        }
        for (Stack stack : closed) {
            assertEquals(0, stack.counters().get(StackCounter.INTERNAL_ERRORS), () -> "" + stack.firstInternalError());
            assertEquals(List.of(), stack.nic().buffers().leaks());
        }
    }

    /** The side every nested class runs: this run's driver's. */
    static Stream<Env> side() {
        return Stream.of(side);
    }

    @BeforeEach
    void countFallbacks() {
        fallbacksBefore.putAll(((SlipstreamSelectorProvider) side.provider()).fallback().counts());
    }

    @AfterEach
    void nothingMeantForAStackFellBack() {
        Map<FallbackReason, Long> now = ((SlipstreamSelectorProvider) side.provider()).fallback().counts();
        for (FallbackReason r : NOT_ON_A_STACK) {
            assertEquals(fallbacksBefore.getOrDefault(r, 0L), now.getOrDefault(r, 0L),
                    () -> "sockets fell back to the kernel (" + r + "): " + now);
        }
    }

    /**
     * Frames went through the stacks' rings (AF_XDP, AF_PACKET) while a nested class ran: sent by the client
     * stack and received by the server stack, and, for a class whose server answers, back.
     */
    static final class FramesOverTheNic implements BeforeAllCallback, AfterAllCallback {
        private final boolean answered;
        private long[] before;

        private FramesOverTheNic(boolean answered) {
            this.answered = answered;
        }

        static FramesOverTheNic bothWays() {
            return new FramesOverTheNic(true);
        }

        static FramesOverTheNic clientToServer() {
            return new FramesOverTheNic(false);
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
        static final FramesOverTheNic FRAMES = FramesOverTheNic.bothWays();

        static Stream<Env> envs() {
            return side();
        }
    }

    @Nested
    class Datagram extends DatagramChannelDifferentialTest {
        @RegisterExtension
        static final FramesOverTheNic FRAMES = FramesOverTheNic.bothWays();

        static Stream<Env> envs() {
            return side();
        }

        static Stream<Env> allEnvs() {
            return side();
        }
    }

    @Nested
    class ClassicSockets extends ClassicSocketDifferentialTest {
        @RegisterExtension
        static final FramesOverTheNic FRAMES = FramesOverTheNic.bothWays();

        static Stream<Env> envs() {
            return side();
        }
    }

    /** Its one case between the stacks sends a datagram to a selected channel, one way. */
    @Nested
    class Selectors extends SelectorSemanticsTest {
        @RegisterExtension
        static final FramesOverTheNic FRAMES = FramesOverTheNic.clientToServer();

        static Stream<Env> envs() {
            return side();
        }
    }

    @Nested
    class Unreferenced extends UnreferencedChannelDifferentialTest {
        @RegisterExtension
        static final FramesOverTheNic FRAMES = FramesOverTheNic.bothWays();

        static Stream<Env> envs() {
            return side();
        }
    }
}
