package io.slipstream.launcher;

import io.slipstream.config.Settings;
import io.slipstream.config.StackConfig;
import io.slipstream.stack.Stack;
import io.slipstream.udp.UdpSocket;
import io.slipstream.wire.Ipv4Address;
import io.slipstream.wire.MacAddress;
import java.io.IOException;
import java.net.BindException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.util.Arrays;
import java.util.Map;

/**
 * {@code bin/slipstream demo}: two stacks joined by the in-memory NIC in this JVM. Stack A
 * resolves B with ARP, pings it, then runs a 64-byte UDP ping-pong; one thread drives both
 * stacks by polling, so the round-trip times are pure protocol processing. Prints RTT p50/p99,
 * and the same UDP ping-pong through the kernel's loopback for comparison.
 */
final class Demo {
    private static final int A = Ipv4Address.parse("198.18.0.1");
    private static final int B = Ipv4Address.parse("198.18.0.2");
    private static final int PORT = 7007;
    /** Polls without progress after which an exchange is declared lost. */
    private static final int MAX_IDLE_POLLS = 10_000_000;
    private static final int MIN_COUNT = 10;
    private static final int MAX_COUNT = 10_000_000;

    private Demo() {}

    static void main(String[] args) throws IOException {
        int count = 200_000; // enough for the JIT to have compiled the path before the measured nine tenths
        for (int i = 0; i < args.length; i++) {
            if (args[i].equals("--count") && i + 1 < args.length) {
                count = count(args[++i]);
            } else {
                throw new IllegalArgumentException("unknown demo option " + args[i] + " (use --count N)");
            }
        }
        try (Stack a = Stack.open(config("198.18.0.1/24"));
             Stack b = Stack.open(config("198.18.0.2/24"))) {
            System.out.printf("stack A %s on %s, stack B %s on %s (in-memory NIC)%n",
                    Ipv4Address.format(A), MacAddress.format(a.mac()), Ipv4Address.format(B), MacAddress.format(b.mac()));
            ping(a, b, count);
            long[] slipstream = udpPingPong(a, b, count);
            long[] kernel = kernelUdpPingPong(count);
            System.out.printf("UDP ping-pong RTT, Slipstream / kernel loopback: p50 %.2f, p99 %.2f%n",
                    (double) percentile(slipstream, 0.50) / percentile(kernel, 0.50),
                    (double) percentile(slipstream, 0.99) / percentile(kernel, 0.99));
            System.out.println("counters A: " + a.counterSnapshot());
            System.out.println("counters B: " + b.counterSnapshot());
        }
    }

    /** Round trips per exchange: at least 10 (the first tenth is warm-up), at most 10 million. */
    private static int count(String text) {
        int n;
        try {
            n = Integer.parseInt(text);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--count needs a whole number of round trips, not '" + text + "'");
        }
        if (n < MIN_COUNT || n > MAX_COUNT) {
            throw new IllegalArgumentException("--count " + n + " is out of range: " + MIN_COUNT + " to " + MAX_COUNT);
        }
        return n;
    }

    private static StackConfig config(String cidr) {
        return StackConfig.from(Settings.of(Map.of(
                "slipstream.driver", "memory",
                "slipstream.interface", "demo0",
                "slipstream.address", cidr,
                // One thread drives both stacks by polling and uses sockets outside the lock:
                // no interrupt thread may process them behind its back.
                "slipstream.interrupt.thread", "false")));
    }

    private static void ping(Stack a, Stack b, int count) {
        long[] seen = {-1}; // the sequence number of the last reply; none yet
        a.icmp().setEchoListener((src, id, seq, len, now) -> seen[0] = seq);
        long[] rtt = new long[count];
        for (int seq = 0; seq < count; seq++) {
            long start = System.nanoTime();
            if (!a.icmp().sendEcho(B, 0x5353, seq, 56)) {
                throw new IllegalStateException("no buffer for echo request " + seq);
            }
            int idle = 0;
            while (seen[0] != (seq & 0xFFFF)) { // the echo's sequence field is 16 bits: it wraps
                if (a.poll() + b.poll() == 0 && ++idle > MAX_IDLE_POLLS) {
                    throw new IllegalStateException("echo " + seq + " got no reply");
                }
            }
            rtt[seq] = System.nanoTime() - start;
            if (seq == 0) {
                System.out.printf("ARP: %s is at %s (first ping, including resolution: %.1f µs)%n",
                        Ipv4Address.format(B), MacAddress.format(a.arp().lookup(B)), rtt[0] / 1e3);
            }
        }
        report("ICMP ping, 56-byte payload", rtt, count);
    }

    private static long[] udpPingPong(Stack a, Stack b, int count) throws IOException {
        // This one thread is both stacks' application thread: it holds both (their sockets'
        // entry points require the stack lock) and polls them under it, as a program would
        // between enter() and exit().
        a.enter();
        b.enter();
        try {
            return udpPingPongEntered(a, b, count);
        } finally {
            b.exit();
            a.exit();
        }
    }

    private static long[] udpPingPongEntered(Stack a, Stack b, int count) throws IOException {
        UdpSocket client = a.udp().open();
        UdpSocket server = b.udp().open();
        server.bind(PORT);
        client.connect(B, PORT);
        long[] rtt = timed(count, (i, out, in) -> {
            sendAll(client, out, 0, 0);
            awaitDatagram(a, b, server, in);
            in.flip();
            sendAll(server, in, server.lastSourceAddress(), server.lastSourcePort());
            awaitDatagram(a, b, client, in);
            if (in.getLong(0) != i || in.position() != 64) {
                throw new IllegalStateException("ping-pong " + i + " came back altered");
            }
        });
        client.close();
        server.close();
        return report("UDP ping-pong, 64 bytes", rtt, count);
    }

    /**
     * The same ping-pong through the kernel, for comparison in the same run: one thread, two
     * non-blocking JDK DatagramChannels on 127.0.0.1, spinning on receive as the Slipstream
     * loop spins on poll.
     */
    private static long[] kernelUdpPingPong(int count) throws IOException {
        try (DatagramChannel server = DatagramChannel.open(); DatagramChannel client = DatagramChannel.open()) {
            server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            client.connect(server.getLocalAddress());
            server.configureBlocking(false);
            client.configureBlocking(false);
            long[] rtt = timed(count, (i, out, in) -> {
                client.write(out);
                in.clear();
                SocketAddress peer;
                while ((peer = server.receive(in)) == null) {
                    Thread.onSpinWait();
                }
                in.flip();
                server.send(in, peer);
                in.clear();
                while (client.read(in) <= 0) {
                    Thread.onSpinWait();
                }
                if (in.getLong(0) != i) {
                    throw new IllegalStateException("kernel ping-pong " + i + " came back altered");
                }
            });
            return report("kernel UDP ping-pong (loopback)", rtt, count);
        }
    }

    /** One round of a ping-pong: {@code out} holds the 64-byte ping numbered {@code round}. */
    private interface Round {
        void run(int round, ByteBuffer out, ByteBuffer in) throws IOException;
    }

    /** Runs {@code count} rounds, timing each from the ping's writing to the pong's arrival. */
    private static long[] timed(int count, Round round) throws IOException {
        ByteBuffer out = ByteBuffer.allocateDirect(64);
        ByteBuffer in = ByteBuffer.allocateDirect(2048);
        long[] rtt = new long[count];
        for (int i = 0; i < count; i++) {
            long start = System.nanoTime();
            out.clear().putLong(0, i);
            round.run(i, out, in);
            rtt[i] = System.nanoTime() - start;
        }
        return rtt;
    }

    private static void sendAll(UdpSocket socket, ByteBuffer data, int address, int port) throws BindException {
        while (socket.send(data, address, port) == 0) {
            Thread.onSpinWait(); // no buffer free yet: the peer's poll will complete some
        }
    }

    private static void awaitDatagram(Stack a, Stack b, UdpSocket socket, ByteBuffer in) {
        in.clear();
        int idle = 0;
        while (socket.receive(in) < 0) {
            if (a.poll() + b.poll() == 0 && ++idle > MAX_IDLE_POLLS) {
                throw new IllegalStateException("datagram lost on a lossless link");
            }
        }
    }

    /** Prints p50/p99/max of the steady part and returns it, sorted. */
    private static long[] report(String what, long[] rtt, int count) {
        // The first tenth is warm-up (JIT, ARP, cold caches); the rest is reported.
        long[] steady = Arrays.copyOfRange(rtt, count / 10, count);
        Arrays.sort(steady);
        System.out.printf("%-32s %d round trips: RTT p50 %.2f µs, p99 %.2f µs, max %.2f µs%n", what,
                steady.length, percentile(steady, 0.50) / 1e3, percentile(steady, 0.99) / 1e3,
                steady[steady.length - 1] / 1e3);
        return steady;
    }

    private static long percentile(long[] sorted, double p) {
        return sorted[(int) Math.min(sorted.length - 1, sorted.length * p)];
    }
}
