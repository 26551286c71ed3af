package io.slipstream.driver.packet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.slipstream.buffer.BufferPool;
import io.slipstream.buffer.PacketBuffer;
import io.slipstream.driver.testing.FrameHarness;
import io.slipstream.nic.NicConfig;
import io.slipstream.nic.NicCounter;
import io.slipstream.nic.NicDriver;
import io.slipstream.nic.NicException;
import io.slipstream.testing.NetNs;
import io.slipstream.testing.VethPair;
import io.slipstream.time.Clock;
import io.slipstream.wire.Arp;
import io.slipstream.wire.Ethernet;
import io.slipstream.wire.Ipv4;
import io.slipstream.wire.Ipv4Address;
import io.slipstream.wire.MacAddress;
import java.lang.foreign.MemorySegment;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The packet driver on the local end of a veth pair whose kernel keeps its own address there
 * (198.19.N.1), the stack at 198.19.N.3 with a MAC of its own, and the kernel in a namespace on
 * the other end (198.19.N.2): the socket filter copies up the stack's ARP and IPv4 and nothing
 * of the kernel's, the rings carry frames both ways, and every drop is counted.
 */
@Timeout(120)
class PacketVethTest {
    private static final Duration STEP = Duration.ofSeconds(10);
    private static final long STACK_MAC = 0x02_00_00_00_00_03L;

    private VethPair veth;
    private PacketInterface vi;
    private final FrameHarness harness = new FrameHarness(() -> vi, 32, STEP);
    private int stackIp;

    @AfterEach
    void close() {
        try {
            if (vi != null) {
                harness.releaseHeld();
                vi.close();
                assertEquals(0, vi.buffers().outstanding(), () -> "buffers not returned: " + vi.buffers().leaks());
            }
        } finally {
            if (veth != null) {
                veth.close();
            }
        }
    }

    private void open(int mtu, Map<String, String> extra) {
        Assumptions.assumeTrue(NetNs.isRoot(), "packet driver tests need root (CAP_NET_RAW, netns): skipped");
        Assumptions.assumeTrue(NetNs.onPath("ethtool") && NetNs.onPath("python3") && NetNs.onPath("ping"),
                "needs ethtool, python3 and ping (bin/slipstream test installs them): skipped");
        veth = VethPair.create(1);
        String local = veth.localAddress();
        stackIp = Ipv4Address.parse(local.substring(0, local.lastIndexOf('.')) + ".3");
        Map<String, String> options = new HashMap<>(extra);
        options.put("slipstream.driver", "packet");
        options.put("slipstream.interface", veth.local());
        options.put("slipstream.address", Ipv4Address.format(stackIp) + "/24");
        NicConfig config = new NicConfig(veth.local(), STACK_MAC, mtu, 64, 64, 512, 2048, options);
        vi = (PacketInterface) NicDriver.byName("packet").open(config, Clock.SYSTEM);
    }

    /** The peer's kernel knows the stack's MAC without asking (the raw tests answer no ARP). */
    private void peerKnowsTheStack() {
        veth.ns().exec("ip", "neigh", "replace", Ipv4Address.format(stackIp), "lladdr", MacAddress.format(STACK_MAC),
                "dev", veth.peer()).orThrow();
    }

    @Test
    void theStacksArpReachesTheRingAndTheKernelKeepsItsOwnAddressAndTraffic() throws Exception {
        open(NicConfig.DEFAULT_MTU, Map.of());
        harness.pump();
        // Nobody answers for .3, so the peer's kernel broadcasts ARP requests for it.
        NetNs.Background asking = veth.ns().start("ping", "-c", "2", "-i", "0.2", "-W", "1", Ipv4Address.format(stackIp));
        try {
            PacketBuffer request = harness.awaitFrame("ARP request for the stack's address", b ->
                    Ethernet.outerType(b.segment(), b.offset()) == Ethernet.TYPE_ARP
                            && Arp.targetIp(b.segment(), b.offset() + Ethernet.HEADER_LENGTH) == stackIp);
            try {
                assertEquals(MacAddress.BROADCAST, Ethernet.destination(request.segment(), request.offset()));
                assertEquals(veth.peerMac(), MacAddress.format(Ethernet.source(request.segment(), request.offset())));
            } finally {
                request.release(vi.stackOwner());
            }
        } finally {
            asking.await(STEP);
        }
        // The kernel's own address on the same interface still answers, and none of it is copied up.
        long before = vi.stats().get(NicCounter.RX_FRAMES);
        NetNs.Result ping = veth.ns().exec("ping", "-c", "3", "-i", "0.2", "-W", "2", veth.localAddress());
        assertTrue(ping.ok() && ping.stdout().contains("3 received"), ping::toString);
        List<String> foreign = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            harness.pump();
            for (PacketBuffer b = harness.events.rx.poll(); b != null; b = harness.events.rx.poll()) {
                if (!isTheStacks(b)) {
                    foreign.add(FrameHarness.describe(b));
                }
                b.release(vi.stackOwner());
            }
            Thread.sleep(10);
        }
        assertEquals(List.of(), foreign, "frames for the kernel's address reached the ring");
        assertTrue(vi.stats().get(NicCounter.RX_FRAMES) - before <= 4, () -> "only late ARP requests for .3: " + vi.stats());
    }

    @Test
    void rawUdpEchoOverTheRingsAnswersAKernelClient() throws Exception {
        open(NicConfig.DEFAULT_MTU, Map.of());
        peerKnowsTheStack();
        FrameHarness.Echo echo = harness.echoUdp(veth.ns(), stackIp, 7, 300, 100);
        assertTrue(echo.report().startsWith("echoed 300"), echo::report);
        System.out.println("packet raw UDP echo, veth: " + echo.report());
        assertEquals(vi.stats().get(NicCounter.TX_FRAMES), harness.events.txCompleted, "every frame sent completed");
        assertEquals(0, vi.stats().get(NicCounter.TX_ERRORS));
    }

    @Test
    void theRingsAllocateNothingPerFrameOnceWarm() throws Exception {
        String tracking = System.getProperty(BufferPool.TRACK_LEAKS_PROPERTY);
        System.setProperty(BufferPool.TRACK_LEAKS_PROPERTY, "false"); // it records a stack trace per acquire
        try {
            open(NicConfig.DEFAULT_MTU, Map.of());
        } finally {
            if (tracking == null) {
                System.clearProperty(BufferPool.TRACK_LEAKS_PROPERTY);
            } else {
                System.setProperty(BufferPool.TRACK_LEAKS_PROPERTY, tracking);
            }
        }
        peerKnowsTheStack();
        FrameHarness.Echo echo = harness.echoUdp(veth.ns(), stackIp, 7, 16000, 2000);
        assertTrue(echo.report().startsWith("echoed 16000"), echo::report);
        // Some window, once the JIT has compiled the loop, in which rx and tx allocated nothing.
        assertEquals(0, echo.fewestBytesPerWindow(), () -> "bytes allocated in the best window: " + echo.report());
    }

    @Test
    void aFrameLargerThanTheMtuAllowsIsCountedAsOversizeAndDropped() throws Exception {
        open(576, Map.of());
        peerKnowsTheStack();
        harness.pump();
        veth.ns().exec("python3", "-c", "import socket, sys\n"
                + "s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
                + "s.setsockopt(socket.IPPROTO_IP, 10, 0)\n" // IP_MTU_DISCOVER off: one 1400-byte frame, no fragments
                + "s.sendto(b'x' * 1300, (sys.argv[1], 9))", Ipv4Address.format(stackIp)).orThrow();
        harness.pollUntil("the oversize frame is counted", () -> vi.stats().get(NicCounter.RX_OVERSIZE) >= 1);
        harness.pump();
        assertEquals(0, harness.events.rx.size(), "nothing delivered");
    }

    @Test
    void framesTheRingHadNoRoomForAreCountedFromTheKernelsStatistics() throws Exception {
        // Two 4 KiB blocks hold a handful of frames; nobody polls while 200 arrive.
        open(NicConfig.DEFAULT_MTU, Map.of(PacketOptions.BLOCKS.name(), "2", PacketOptions.BLOCK_BYTES.name(), "4096"));
        peerKnowsTheStack();
        veth.ns().exec("python3", "-c", "import socket, sys\n"
                + "s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
                + "for i in range(200): s.sendto(b'y' * 1000, (sys.argv[1], 9))", Ipv4Address.format(stackIp)).orThrow();
        Thread.sleep(100);
        long full = vi.stats().get(NicCounter.PACKET_RX_RING_FULL);
        assertTrue(full > 0, () -> "" + vi.stats());
        // What the ring kept is still delivered, and all of it is accounted for.
        harness.pollUntil("the kept frames", () -> harness.events.rx.size() + vi.stats().get(NicCounter.PACKET_RX_RING_FULL) >= 200);
    }

    /** veth has no unicast filter, so the stack's MAC puts it in promiscuous mode: for as long as the socket lives. */
    @Test
    void closingTakesTheStacksMacOffTheInterface() {
        open(NicConfig.DEFAULT_MTU, Map.of());
        assertEquals("promiscuity 1", promiscuity(), "the stack's MAC is in the interface's filter");
        vi.close();
        assertEquals("promiscuity 0", promiscuity());
    }

    private String promiscuity() {
        String show = NetNs.run("ip", "-d", "link", "show", veth.local()).orThrow().stdout();
        Matcher m = Pattern.compile("promiscuity \\d+").matcher(show);
        return m.find() ? m.group() : show;
    }

    @Test
    void aMissingInterfaceIsNamedAsNotFound() {
        Assumptions.assumeTrue(NetNs.isRoot(), "needs root: skipped");
        NicException e = assertThrows(NicException.class,
                () -> NicDriver.byName("packet").check("ssnosuch0", Map.of()));
        assertEquals(NicException.Kind.NOT_FOUND, e.kind());
        assertTrue(e.getMessage().contains("packet ssnosuch0: no such interface"), e::getMessage);
    }

    private boolean isTheStacks(PacketBuffer b) {
        MemorySegment s = b.segment();
        long at = b.offset() + Ethernet.HEADER_LENGTH;
        int type = Ethernet.outerType(s, b.offset());
        return type == Ethernet.TYPE_ARP ? Arp.targetIp(s, at) == stackIp
                : type == Ethernet.TYPE_IPV4 && Ipv4.destination(s, at) == stackIp
                        && Ethernet.destination(s, b.offset()) == STACK_MAC;
    }
}
