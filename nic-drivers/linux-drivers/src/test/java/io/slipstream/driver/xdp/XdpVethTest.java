package io.slipstream.driver.xdp;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.slipstream.buffer.BufferPool;
import io.slipstream.buffer.PacketBuffer;
import io.slipstream.driver.testing.FrameHarness;
import io.slipstream.nic.NicCounter;
import io.slipstream.testing.NetNs;
import io.slipstream.wire.Ethernet;
import io.slipstream.wire.Ipv4;
import io.slipstream.wire.Ipv4Address;
import io.slipstream.wire.Udp;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The driver on a veth pair, the kernel on both sides: what the program passes stays the
 * kernel's (ARP, ping, TCP and UDP ports Slipstream does not own, on the same address); what
 * the filters name reaches the rx ring; what the tx ring sends reaches the peer.
 */
@Timeout(90)
class XdpVethTest {
    private static final int IP_OFF = Ethernet.HEADER_LENGTH;
    private static final int ALLOCATION_WINDOW = 4_000;
    private XdpSandbox box;
    /** The fewest bytes this thread allocated over {@link #ALLOCATION_WINDOW} echoes in the last {@link #echo}. */
    private long fewestBytesPerWindow;

    @AfterEach
    void close() {
        if (box != null) {
            box.close();
            assertTrue(box.vi != null, "the driver opened");
            assertEquals(0, box.vi.buffers().outstanding(), () -> "buffers not returned: " + box.vi.buffers().leaks());
        }
    }

    @Test
    void theKernelKeepsPingAndItsTcpPortsOnTheSameAddress() throws Exception {
        XdpSandbox.assumeRoot();
        box = XdpSandbox.create(1);
        box.open();
        assertTrue(box.linkShow().contains("xdp"), box::linkShow);
        // Slipstream owns a UDP port, so the program has something to match and still passes these.
        box.vi.filters().addListener(XdpFilters.PROTO_UDP, box.localIp, 9999);
        String local = Ipv4Address.format(box.localIp);

        NetNs.Result ping = box.ns.exec("ping", "-c", "2", "-i", "0.2", "-W", "2", local);
        assertTrue(ping.ok(), ping::toString);
        assertEquals("client read kernel says hello, server read hello", box.kernelTcpExchange(0));
        assertEquals(0, box.vi.stats().get(NicCounter.RX_FRAMES), "nothing of this was Slipstream's");
    }

    @Test
    void aFilteredUdpPortReachesTheRxRingAndAnotherStaysWithTheKernel() throws Exception {
        XdpSandbox.assumeRoot();
        box = XdpSandbox.create(1);
        box.open();
        String local = Ipv4Address.format(box.localIp);
        box.vi.filters().addListener(XdpFilters.PROTO_UDP, box.localIp, 9999);
        try (DatagramSocket kernel = new DatagramSocket(new InetSocketAddress(InetAddress.getByName(local), 9998))) {
            kernel.setSoTimeout((int) XdpSandbox.STEP.toMillis());
            box.pump(); // rx buffers posted before the frame arrives
            box.ns.exec("bash", "-c", "printf to-slipstream > /dev/udp/" + local + "/9999; "
                    + "printf to-the-kernel > /dev/udp/" + local + "/9998").orThrow();

            PacketBuffer frame = box.awaitFrame("the datagram to port 9999", b -> FrameHarness.isUdpTo(b, box.localIp, 9999));
            try {
                MemorySegment s = frame.segment();
                long ip = frame.offset() + IP_OFF;
                int udp = (int) ip + Ipv4.headerLength(s, ip);
                assertEquals(box.peerIp, Ipv4.source(s, ip));
                byte[] payload = s.asSlice(udp + Udp.HEADER_LENGTH, Udp.length(s, udp) - Udp.HEADER_LENGTH)
                        .toArray(ValueLayout.JAVA_BYTE);
                assertEquals("to-slipstream", new String(payload, StandardCharsets.US_ASCII));
            } finally {
                frame.release(box.vi.stackOwner());
            }
            DatagramPacket p = new DatagramPacket(new byte[100], 100);
            kernel.receive(p);
            assertEquals("to-the-kernel", new String(p.getData(), 0, p.getLength(), StandardCharsets.US_ASCII));
        }
        assertTrue(box.vi.stats().get(NicCounter.RX_FRAMES) >= 1);
    }

    @Test
    void aFrameThatFindsNoFillBufferIsCountedAsTheKernelDropsIt() throws Exception {
        XdpSandbox.assumeRoot();
        box = XdpSandbox.create(1);
        box.open();
        box.vi.filters().addListener(XdpFilters.PROTO_UDP, box.localIp, 9999);
        // No rx buffer posted: the kernel has nowhere to put the frame.
        box.ns.exec("bash", "-c", "printf lost > /dev/udp/" + Ipv4Address.format(box.localIp) + "/9999").orThrow();
        for (int i = 0; i < 250 && box.vi.stats().get(NicCounter.RX_NO_BUFFER) == 0; i++) {
            Thread.sleep(20);
        }
        assertEquals(1, box.vi.stats().get(NicCounter.RX_NO_BUFFER), () -> "" + box.vi.stats());
        assertEquals(0, box.vi.stats().get(NicCounter.RX_FRAMES));
    }

    @Test
    void rawUdpEchoOverTheRingsAnswersAKernelClient() throws Exception {
        XdpSandbox.assumeRoot();
        box = XdpSandbox.create(1);
        box.open();
        String report = echo(2000);
        assertTrue(report.startsWith("echoed 2000"), report);
        System.out.println("xdp raw UDP echo, veth, " + (box.vi.zeroCopy() ? "zero-copy" : "copy mode") + ", "
                + (box.vi.nativeMode() ? "native" : "generic") + " XDP: " + report);
        assertEquals(box.vi.stats().get(NicCounter.TX_FRAMES), box.events.txCompleted, "every frame sent completed");
    }

    @Test
    void theRingsAllocateNothingPerFrameOnceWarm() throws Exception {
        XdpSandbox.assumeRoot();
        box = XdpSandbox.create(1);
        String tracking = System.getProperty(BufferPool.TRACK_LEAKS_PROPERTY);
        System.setProperty(BufferPool.TRACK_LEAKS_PROPERTY, "false"); // it records a stack trace per acquire
        try {
            box.open();
        } finally {
            if (tracking == null) {
                System.clearProperty(BufferPool.TRACK_LEAKS_PROPERTY);
            } else {
                System.setProperty(BufferPool.TRACK_LEAKS_PROPERTY, tracking);
            }
        }
        String report = echo(40_000);
        assertTrue(report.startsWith("echoed 40000"), report);
        // The JIT may still compile (and interpret meanwhile) in the first windows: steady state
        // is some window, once compiled, in which rx, tx, fill and completion allocated nothing.
        assertEquals(0, fewestBytesPerWindow, () -> "bytes allocated in the best window of " + ALLOCATION_WINDOW
                + " echoes: " + report);
    }

    @Test
    void genericModeWhenAskedForAndTheModeInUseIsVisible() throws Exception {
        XdpSandbox.assumeRoot();
        box = XdpSandbox.create(1);
        box.open(Map.of("slipstream.xdp.attach", "generic", "slipstream.xdp.bind", "copy"));
        assertFalse(box.vi.nativeMode());
        assertFalse(box.vi.zeroCopy());
        assertEquals(1, box.vi.stats().get(NicCounter.XDP_GENERIC));
        assertEquals(0, box.vi.stats().get(NicCounter.XDP_NATIVE));
        assertEquals(1, box.vi.stats().get(NicCounter.XDP_COPY_QUEUES));
        assertTrue(box.linkShow().contains("xdpgeneric"), box::linkShow);
        String report = echo(200);
        assertTrue(report.startsWith("echoed 200"), report);
    }

    @Test
    void twoReceiveQueuesEachGetASocket() throws Exception {
        XdpSandbox.assumeRoot();
        box = XdpSandbox.create(2);
        box.open();
        assertArrayEquals(new int[] {0, 1}, box.vi.queueIds());
        String report = echo(200);
        assertTrue(report.startsWith("echoed 200"), report);

        // The peer spreads flows over its two tx queues, which are our two rx queues: datagrams
        // from 24 source ports (each its own flow) reach both sockets. Every buffer the rx ring
        // takes is posted first (32 a queue), so the burst finds room on either.
        box.vi.filters().addListener(XdpFilters.PROTO_UDP, box.localIp, 9999);
        while (box.vi.rx().posted() < box.vi.rx().capacity()) {
            assertTrue(box.vi.rx().post(box.acquire()));
        }
        box.ns.exec("python3", "-c", String.join("\n",
                "import socket, sys",
                "for port in range(40000, 40024):",
                "    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(('', port))",
                "    s.sendto(b'flow %d' % port, (sys.argv[1], 9999)); s.close()"),
                Ipv4Address.format(box.localIp)).orThrow();
        int[] received = {0};
        box.harness.pollUntil("24 datagrams", () -> {
            for (PacketBuffer b = box.events.rx.poll(); b != null; b = box.events.rx.poll()) {
                received[0] += FrameHarness.isUdpTo(b, box.localIp, 9999) ? 1 : 0;
                b.release(box.vi.stackOwner());
            }
            return received[0] == 24;
        });
        assertTrue(box.vi.framesReceived(0) > 0 && box.vi.framesReceived(1) > 0,
                () -> "per queue: " + box.vi.framesReceived(0) + ", " + box.vi.framesReceived(1));
    }

    /** {@link FrameHarness#echoUdp} to port 7, which the filters give to Slipstream. */
    private String echo(int count) throws InterruptedException {
        box.vi.filters().addListener(XdpFilters.PROTO_UDP, box.localIp, 7);
        FrameHarness.Echo echo = box.harness.echoUdp(box.ns, box.localIp, 7, count, ALLOCATION_WINDOW);
        fewestBytesPerWindow = echo.fewestBytesPerWindow();
        return echo.report();
    }
}
