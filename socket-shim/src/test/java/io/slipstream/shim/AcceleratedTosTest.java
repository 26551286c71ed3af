package io.slipstream.shim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.slipstream.buffer.BufferOwner;
import io.slipstream.buffer.PacketBuffer;
import io.slipstream.config.StackConfig;
import io.slipstream.ip.Ipv4Transport;
import io.slipstream.stack.Stack;
import io.slipstream.testing.StackCalls;
import io.slipstream.tcp.TcpConnection;
import io.slipstream.tcp.TcpLayer;
import io.slipstream.tcp.TcpListener;
import io.slipstream.tcp.TcpState;
import io.slipstream.udp.UdpSocket;
import io.slipstream.wire.Ipv4Address;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * IP_TOS on accelerated sockets reaches the wire: the receiving stack reports the TOS byte of
 * the IP header each datagram arrived with ({@link UdpSocket#lastTos()}), between the two
 * in-memory stacks of the differential suite; for TCP, the receiving stack's IP layer hands the
 * TOS of each segment to a recording transport interposed in front of its TCP layer.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class AcceleratedTosTest {
    private static final SlipstreamSelectorProvider PROVIDER = Env.slipstreamProvider();

    /** A UDP socket opened directly on stack B, so the test reads what its IP layer saw. */
    private static final class Receiver implements AutoCloseable {
        final Stack stack = ShimStacks.get(Env.config(Env.LINK, Env.B_CIDR)).stack();
        final UdpSocket socket;

        Receiver() throws BindException {
            socket = StackCalls.inside(stack, () -> {
                UdpSocket s = stack.udp().open();
                s.bind(0);
                return s;
            });
        }

        InetSocketAddress address() {
            return new InetSocketAddress("198.18.7.2", socket.localPort());
        }

        /** Waits (bounded) for the next datagram; returns the TOS byte it carried. */
        int nextTos() throws InterruptedException {
            for (int i = 0; i < 10_000; i++) {
                stack.enter();
                try {
                    if (socket.receive(ByteBuffer.allocate(64)) >= 0) {
                        return socket.lastTos();
                    }
                } finally {
                    stack.exit();
                }
                Thread.sleep(1);
            }
            throw new AssertionError("no datagram arrived at " + Ipv4Address.format(stack.address()));
        }

        @Override
        public void close() {
            StackCalls.inside(stack, () -> {
                socket.close();
                return null;
            });
        }
    }

    @Test
    void datagramsCarryTheTosSetBeforeAndAfterTheChannelMovesOntoTheStack() throws Exception {
        try (Receiver r = new Receiver(); DatagramChannel dc = PROVIDER.openDatagramChannel()) {
            dc.setOption(StandardSocketOptions.IP_TOS, 0x28);
            dc.send(ByteBuffer.wrap(new byte[] {1}), r.address());
            assertTrue(((ShimDatagramChannel) dc).isAccelerated(), "IP_TOS no longer keeps a datagram channel on the kernel");
            assertEquals(0x28, r.nextTos(), "set before the decision, replayed onto the stack socket");
            dc.setOption(StandardSocketOptions.IP_TOS, 0xB8);
            dc.send(ByteBuffer.wrap(new byte[] {2}), r.address());
            assertEquals(0xB8, r.nextTos(), "set on the accelerated socket");
            assertEquals(0xB8, dc.getOption(StandardSocketOptions.IP_TOS));
            dc.setOption(StandardSocketOptions.IP_TOS, 0x48);
            dc.send(ByteBuffer.wrap(new byte[3000]), r.address()); // fragmented: every fragment carries it
            assertEquals(0x48, r.nextTos());
            dc.setOption(StandardSocketOptions.IP_TOS, 0);
            dc.send(ByteBuffer.wrap(new byte[] {4}), r.address());
            assertEquals(0, r.nextTos(), "back to the default");
        }
    }

    /** Sits in front of the stack's TCP layer: records each segment's TOS, then hands it on. */
    private static final class TosRecorder implements Ipv4Transport {
        final TcpLayer tcp;
        final List<Integer> tos = new CopyOnWriteArrayList<>();

        TosRecorder(TcpLayer tcp) {
            this.tcp = tcp;
        }

        @Override
        public int protocol() {
            return tcp.protocol();
        }

        @Override
        public int receive(PacketBuffer buffer, BufferOwner owner, int source, int destination, int tos) {
            this.tos.add(tos);
            return tcp.receive(buffer, owner, source, destination, tos);
        }

        @Override
        public void receiveBatch(boolean begins) {
            tcp.receiveBatch(begins);
        }
    }

    /** Processes both stacks until {@code done} (checked under B's lock), bounded in count. */
    private static void drive(Stack a, Stack b, BooleanSupplier done) throws InterruptedException {
        for (int i = 0; i < 10_000; i++) {
            a.enter();
            a.exit();
            b.enter();
            try {
                if (done.getAsBoolean()) {
                    return;
                }
            } finally {
                b.exit();
            }
            Thread.sleep(1);
        }
        throw new AssertionError("the stacks did not get there");
    }

    private static void sendOnA(Stack a, TcpConnection c, int bytes) {
        a.enter();
        try {
            assertEquals(bytes, c.send(ByteBuffer.allocate(bytes)));
        } finally {
            a.exit();
        }
    }

    @Test
    void tcpSegmentsCarryTheConnectionsTosFromTheMomentItIsSet() throws Exception {
        StackConfig ca = Env.config("tostcp", "198.18.9.1/24");
        StackConfig cb = Env.config("tostcp", "198.18.9.2/24");
        Stack a = Stack.open(ca);
        Stack b = Stack.open(cb);
        try {
            TcpLayer ta = a.tcp();
            TcpLayer tb = b.tcp();
            TosRecorder atB = new TosRecorder(tb);
            b.ip().interpose(atB);
            b.enter();
            TcpListener listener;
            try {
                listener = tb.listen(7000, 4);
            } finally {
                b.exit();
            }
            a.enter();
            TcpConnection client;
            try {
                client = ta.connect(cb.address(), 7000);
                assertEquals(0, client.tos());
            } finally {
                a.exit();
            }
            drive(a, b, listener::acceptable);
            TcpConnection[] server = new TcpConnection[1];
            drive(a, b, () -> (server[0] = listener.accept()) != null);
            drive(a, b, () -> client.state() == TcpState.ESTABLISHED);
            assertTrue(atB.tos.stream().allMatch(t -> t == 0), "the handshake went out with TOS 0: " + atB.tos);

            atB.tos.clear();
            a.enter();
            try {
                client.tos(0x28);
            } finally {
                a.exit();
            }
            sendOnA(a, client, 5000);
            ByteBuffer got = ByteBuffer.allocate(20_000);
            drive(a, b, () -> server[0].receive(got) >= 0 && got.position() == 5000);
            assertTrue(atB.tos.size() >= 4, "5000 bytes took several segments: " + atB.tos);
            assertTrue(atB.tos.stream().allMatch(t -> t == 0x28), "every segment after the setting: " + atB.tos);

            atB.tos.clear();
            a.enter();
            try {
                client.tos(0xB9);
                assertEquals(0xB8, client.tos(), "TCP keeps the ECN bits to itself");
            } finally {
                a.exit();
            }
            sendOnA(a, client, 100);
            drive(a, b, () -> server[0].receive(got) >= 0 && got.position() == 5100);
            assertTrue(!atB.tos.isEmpty() && atB.tos.stream().allMatch(t -> t == 0xB8), "changed while connected: " + atB.tos);
        } finally {
            a.close();
            b.close();
        }
    }
}
