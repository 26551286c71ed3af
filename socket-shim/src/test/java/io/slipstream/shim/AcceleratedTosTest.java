package io.slipstream.shim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.slipstream.stack.Stack;
import io.slipstream.udp.UdpSocket;
import io.slipstream.wire.Ipv4Address;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * IP_TOS on accelerated sockets reaches the wire: the receiving stack reports the TOS byte of
 * the IP header each datagram arrived with ({@link UdpSocket#lastTos()}), between the two
 * in-memory stacks of the differential suite.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class AcceleratedTosTest {
    private static final SlipstreamSelectorProvider PROVIDER = Env.slipstreamProvider();

    /** A UDP socket opened directly on stack B, so the test reads what its IP layer saw. */
    private static final class Receiver implements AutoCloseable {
        final Stack stack = ShimStacks.get(Env.config(Env.LINK, Env.B_CIDR)).stack();
        final UdpSocket socket;

        Receiver() throws Exception {
            stack.enter();
            try {
                socket = stack.udp().open();
                socket.bind(0);
            } finally {
                stack.exit();
            }
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
            stack.enter();
            try {
                socket.close();
            } finally {
                stack.exit();
            }
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
}
