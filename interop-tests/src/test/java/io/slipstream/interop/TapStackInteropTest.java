package io.slipstream.interop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.slipstream.config.Settings;
import io.slipstream.testing.StackChecks;
import io.slipstream.config.StackConfig;
import io.slipstream.ip.IpCounter;
import io.slipstream.stack.Stack;
import io.slipstream.testing.NetNs;
import io.slipstream.udp.UdpSocket;
import io.slipstream.wire.Ipv4Address;
import java.net.BindException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A whole Slipstream stack on a TAP device whose other side is the Linux kernel, in a network
 * namespace the test creates (198.18.8.0/24): the kernel's ping is answered, and UDP flows both
 * ways with a kernel socket, including datagrams that both sides must fragment and reassemble.
 */
@Timeout(120)
class TapStackInteropTest {
    private static final String KERNEL_IP = "198.18.8.1";
    private static final String STACK_IP = "198.18.8.2";
    private static final Duration STEP = Duration.ofSeconds(20);

    private NetNs ns;
    private Stack stack;
    private Thread poller;
    private volatile boolean polling = true;

    @BeforeEach
    void open() {
        NetNs.assumeRootWith("TAP tests need root (CAP_NET_ADMIN): skipped", "ping", "python3");
        ns = NetNs.create("ssstk");
        String device = "sss" + NetNs.randomHex(8);
        stack = Stack.open(StackConfig.from(Settings.of(Map.of(
                "slipstream.driver", "tap",
                "slipstream.interface", device,
                "slipstream.address", STACK_IP + "/24",
                // This thread drives the stack by polling and uses its socket outside the
                // stack lock: no interrupt thread may process the stack behind its back.
                "slipstream.interrupt.thread", "false"))));
        // The device is created in our namespace; the kernel's side of it moves into the sandbox.
        TapSandbox.kernelSideIn(ns, device, KERNEL_IP + "/24");
        // Until the runtime's interrupt thread exists, a thread of the test processes the stack.
        poller = Thread.ofPlatform().name("tap-stack-poller").start(() -> {
            while (polling) {
                if (stack.poll() == 0) {
                    LockSupport.parkNanos(20_000);
                }
            }
        });
    }

    @AfterEach
    void close() throws InterruptedException {
        polling = false;
        if (poller != null) {
            poller.join();
        }
        StackChecks.closeChecked(stack);
        if (ns != null) {
            ns.close();
        }
    }

    @Test
    void theKernelsPingIsAnswered() {
        NetNs.Result r = ns.exec(STEP, "ping", "-c", "3", "-i", "0.2", "-W", "2", STACK_IP);
        assertTrue(r.ok(), () -> "ping failed: " + r);
        assertTrue(r.stdout().contains("3 received"), r.stdout());
        assertTrue(stack.ip().counters().get(IpCounter.ICMP_ECHO_REPLIES_SENT) >= 3);
    }

    @Test
    void udpFlowsBothWaysWithAKernelSocketIncludingFragmentedDatagrams() throws Exception {
        UdpSocket socket;
        stack.lock().lock();
        try {
            socket = stack.udp().open();
            socket.bind(7000);
        } finally {
            stack.lock().unlock();
        }
        // The kernel sends a short and a 4000-byte datagram and expects each back reversed.
        String script = String.join("\n",
                "import socket, sys",
                "s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)",
                "s.bind(('" + KERNEL_IP + "', 0))",
                "s.settimeout(10)",
                "for n in (16, 4000):",
                "    data = bytes((i * 7) % 251 for i in range(n))",
                "    s.sendto(data, ('" + STACK_IP + "', 7000))",
                "    back, peer = s.recvfrom(65535)",
                "    assert back == data[::-1], 'reply differs for %d bytes' % n",
                "    assert peer == ('" + STACK_IP + "', 7000), peer",
                "print('kernel side ok')");
        NetNs.Background kernel = ns.start("python3", "-c", script);
        try {
            ByteBuffer in = ByteBuffer.allocate(65536);
            for (int n : new int[] {16, 4000}) {
                in.clear();
                int got = awaitDatagram(socket, in);
                assertEquals(n, got);
                byte[] data = Arrays.copyOf(in.array(), got);
                for (int i = 0; i < n; i++) {
                    assertEquals((byte) ((i * 7) % 251), data[i], "byte " + i + " of " + n);
                }
                int from;
                int fromPort;
                stack.lock().lock();
                try {
                    from = socket.lastSourceAddress();
                    fromPort = socket.lastSourcePort();
                    byte[] reversed = new byte[n];
                    for (int i = 0; i < n; i++) {
                        reversed[i] = data[n - 1 - i];
                    }
                    assertEquals(n, socket.send(ByteBuffer.wrap(reversed), from, fromPort));
                } finally {
                    stack.lock().unlock();
                }
                assertEquals(Ipv4Address.parse(KERNEL_IP), from);
            }
            NetNs.Result r = kernel.await(STEP);
            assertTrue(r.ok() && r.stdout().contains("kernel side ok"), () -> "kernel side: " + r);
        } finally {
            kernel.close();
        }
        assertTrue(stack.ip().counters().get(IpCounter.REASSEMBLED) >= 1, "the kernel's 4000 bytes came fragmented");
        assertTrue(stack.ip().counters().get(IpCounter.TX_FRAGMENTS) >= 3, "ours went out fragmented");
    }

    @Test
    void aKernelSocketReceivesWhatTheStackSends() throws Exception {
        NetNs.Background kernel = ns.start("python3", "-c", String.join("\n",
                "import socket",
                "s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)",
                "s.bind(('" + KERNEL_IP + "', 7001))",
                "s.settimeout(10)",
                "d, peer = s.recvfrom(65535)",
                "print(d.decode(), peer[0])"));
        try {
            byte[] message = "hello from slipstream".getBytes(StandardCharsets.US_ASCII);
            UdpSocket socket;
            stack.lock().lock();
            try {
                socket = stack.udp().open();
                socket.connect(Ipv4Address.parse(KERNEL_IP), 7001);
            } finally {
                stack.lock().unlock();
            }
            // The listener may not be bound yet: resend until it answers (bounded), as UDP does.
            NetNs.Result r = null;
            for (int attempt = 0; attempt < 40 && (r == null || !r.ok()); attempt++) {
                stack.lock().lock();
                try {
                    socket.takeError(); // a port unreachable from before the bind is expected
                    socket.send(ByteBuffer.wrap(message), 0, 0);
                } finally {
                    stack.lock().unlock();
                }
                r = kernel.isAlive() ? null : kernel.await(STEP);
                if (r == null) {
                    Thread.sleep(250);
                }
            }
            NetNs.Result result = r != null ? r : kernel.await(STEP);
            assertTrue(result.ok(), () -> "kernel listener: " + result);
            assertEquals("hello from slipstream " + STACK_IP, result.stdout().strip());
        } finally {
            kernel.close();
        }
    }

    private int awaitDatagram(UdpSocket socket, ByteBuffer in) throws BindException {
        long deadline = System.nanoTime() + STEP.toNanos();
        while (System.nanoTime() < deadline) {
            stack.lock().lock();
            try {
                int n = socket.receive(in);
                if (n >= 0) {
                    return n;
                }
            } finally {
                stack.lock().unlock();
            }
            LockSupport.parkNanos(100_000);
        }
        throw new AssertionError("no datagram from the kernel within " + STEP + "; " + stack.counterSnapshot());
    }
}
