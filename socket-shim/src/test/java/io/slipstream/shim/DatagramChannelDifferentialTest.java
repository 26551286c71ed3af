package io.slipstream.shim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.StandardProtocolFamily;
import java.net.PortUnreachableException;
import java.net.SocketAddress;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.AlreadyBoundException;
import java.nio.channels.AlreadyConnectedException;
import java.nio.channels.AsynchronousCloseException;
import java.nio.channels.ClosedByInterruptException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.DatagramChannel;
import java.nio.channels.MembershipKey;
import java.nio.channels.NotYetConnectedException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.UnresolvedAddressException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The UDP half of the differential suite: the JDK's provider on kernel loopback against
 * Slipstream's, whose datagram channels run accelerated over two in-memory stacks.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class DatagramChannelDifferentialTest {

    static java.util.stream.Stream<Env> envs() {
        return Env.both();
    }

    private static ByteBuffer text(String s) {
        return ByteBuffer.wrap(s.getBytes());
    }

    private static String text(ByteBuffer b) {
        b.flip();
        byte[] a = new byte[b.remaining()];
        b.get(a);
        return new String(a);
    }

    @ParameterizedTest
    @MethodSource("envs")
    void sendAndReceiveCarryDataAndSource(Env env) throws Exception {
        try (DatagramChannel server = env.provider().openDatagramChannel().bind(env.udpServerAny());
                DatagramChannel client = env.provider().openDatagramChannel().bind(env.udpClientAny())) {
            InetSocketAddress serverAddress = (InetSocketAddress) server.getLocalAddress();
            assertEquals(env.udpServerHost(), serverAddress.getAddress());
            assertTrue(serverAddress.getPort() > 0);
            assertEquals(5, client.send(text("hello"), serverAddress));
            ByteBuffer got = ByteBuffer.allocate(64);
            SocketAddress from = server.receive(got);
            assertEquals(client.getLocalAddress(), from);
            assertEquals("hello", text(got));
            // and back to the source it reported
            assertEquals(5, server.send(text("world"), from));
            ByteBuffer back = ByteBuffer.allocateDirect(64);
            assertEquals(serverAddress, client.receive(back));
            assertEquals("world", text(back));
        }
    }

    @ParameterizedTest
    @MethodSource("envs")
    void unboundChannelBindsWhenItFirstSends(Env env) throws Exception {
        try (DatagramChannel server = env.provider().openDatagramChannel().bind(env.udpServerAny());
                DatagramChannel client = env.provider().openDatagramChannel()) {
            assertNull(client.getLocalAddress());
            client.send(text("first"), server.getLocalAddress());
            InetSocketAddress local = (InetSocketAddress) client.getLocalAddress();
            assertTrue(local.getPort() > 0);
            ByteBuffer got = ByteBuffer.allocate(16);
            InetSocketAddress from = (InetSocketAddress) server.receive(got);
            assertEquals(local.getPort(), from.getPort());
            assertEquals("first", text(got));
        }
    }

    @ParameterizedTest
    @MethodSource("envs")
    void longDatagramIsTruncatedToTheBuffer(Env env) throws Exception {
        try (DatagramChannel server = env.provider().openDatagramChannel().bind(env.udpServerAny());
                DatagramChannel client = env.provider().openDatagramChannel().bind(env.udpClientAny())) {
            byte[] data = new byte[1000];
            for (int i = 0; i < data.length; i++) {
                data[i] = (byte) i;
            }
            client.send(ByteBuffer.wrap(data), server.getLocalAddress());
            client.send(text("next"), server.getLocalAddress());
            ByteBuffer small = ByteBuffer.allocate(10);
            server.receive(small);
            assertEquals(10, small.position());
            assertArrayEquals(java.util.Arrays.copyOf(data, 10), small.array());
            ByteBuffer next = ByteBuffer.allocate(100);
            server.receive(next);
            assertEquals("next", text(next), "the rest of the long datagram was discarded");
        }
    }

    @ParameterizedTest
    @MethodSource("envs")
    void largeDatagramsNeedingFragmentationArriveWhole(Env env) throws Exception {
        try (DatagramChannel server = env.provider().openDatagramChannel().bind(env.udpServerAny());
                DatagramChannel client = env.provider().openDatagramChannel().bind(env.udpClientAny())) {
            server.setOption(StandardSocketOptions.SO_RCVBUF, 1 << 20);
            for (int size : new int[] {0, 1, 1472, 1473, 9000, 30_000}) {
                byte[] data = new byte[size];
                new java.util.SplittableRandom(size).nextBytes(data);
                assertEquals(size, client.send(ByteBuffer.wrap(data), server.getLocalAddress()));
                ByteBuffer got = ByteBuffer.allocate(65_536);
                server.receive(got);
                assertEquals(size, got.position(), "size " + size);
                assertArrayEquals(data, java.util.Arrays.copyOf(got.array(), size));
            }
        }
    }

    @ParameterizedTest
    @MethodSource("envs")
    void connectedChannelsReadAndWrite(Env env) throws Exception {
        try (DatagramChannel server = env.provider().openDatagramChannel().bind(env.udpServerAny());
                DatagramChannel client = env.datagramConnectedTo(server.getLocalAddress())) {
            assertTrue(client.isConnected());
            assertEquals(server.getLocalAddress(), client.getRemoteAddress());
            assertEquals(4, client.write(text("ping")));
            ByteBuffer got = ByteBuffer.allocate(16);
            SocketAddress from = server.receive(got);
            assertEquals("ping", text(got));
            server.connect(from);
            assertEquals(4, server.write(text("pong")));
            ByteBuffer back = ByteBuffer.allocate(2);
            assertEquals(2, client.read(back), "read returns what fitted");
            assertThrows(AlreadyConnectedException.class, () -> client.connect(server.getLocalAddress()));
            assertThrows(AlreadyConnectedException.class, () -> client.send(text("x"), new InetSocketAddress(env.udpServerHost(), 9)));
            client.disconnect();
            assertFalse(client.isConnected());
            assertNull(client.getRemoteAddress());
            assertThrows(NotYetConnectedException.class, () -> client.read(ByteBuffer.allocate(1)));
            assertThrows(NotYetConnectedException.class, () -> client.write(text("x")));
        }
    }

    /** The read-only buffer is refused before the datagram is taken, so a later read still gets it. */
    @ParameterizedTest
    @MethodSource("envs")
    void aReadOnlyBufferInAVectorReadIsRefusedAndTheDatagramKept(Env env) throws Exception {
        try (DatagramChannel server = env.provider().openDatagramChannel().bind(env.udpServerAny());
                DatagramChannel client = env.datagramConnectedTo(server.getLocalAddress())) {
            ByteBuffer[] vector = {ByteBuffer.allocate(2), ByteBuffer.allocate(8).asReadOnlyBuffer()};
            assertThrows(IllegalArgumentException.class, () -> client.read(vector));
            assertThrows(IllegalArgumentException.class, () -> client.read(ByteBuffer.allocate(8).asReadOnlyBuffer()));
            assertEquals(4, server.send(text("kept"), client.getLocalAddress()));
            assertThrows(IllegalArgumentException.class, () -> client.read(vector));
            assertEquals(0, vector[0].position());
            ByteBuffer got = ByteBuffer.allocate(16);
            assertEquals(4, client.read(got));
            assertEquals("kept", text(got));
        }
    }

    @ParameterizedTest
    @MethodSource("envs")
    void sendingToAClosedPortReportsPortUnreachableOnTheConnectedChannel(Env env) throws Exception {
        InetSocketAddress closedPort = env.closedUdpPort();
        try (DatagramChannel client = env.datagramConnectedTo(closedPort)) {
            client.write(text("anyone?"));
            assertThrows(PortUnreachableException.class, () -> client.read(ByteBuffer.allocate(16)));
            assertTrue(client.isOpen(), "the error is reported, the channel stays open");
        }
    }

    @ParameterizedTest
    @MethodSource("envs")
    void nonBlockingReceiveAndSelector(Env env) throws Exception {
        try (Selector sel = env.provider().openSelector();
                DatagramChannel server = env.provider().openDatagramChannel().bind(env.udpServerAny());
                DatagramChannel client = env.provider().openDatagramChannel().bind(env.udpClientAny())) {
            server.configureBlocking(false);
            assertNull(server.receive(ByteBuffer.allocate(8)));
            SelectionKey key = server.register(sel, SelectionKey.OP_READ);
            assertEquals(0, sel.selectNow());
            client.send(text("wake"), server.getLocalAddress());
            assertEquals(1, sel.select(10_000));
            assertTrue(sel.selectedKeys().contains(key));
            assertTrue(key.isReadable());
            ByteBuffer got = ByteBuffer.allocate(8);
            assertEquals(client.getLocalAddress(), server.receive(got));
            assertEquals("wake", text(got));
            sel.selectedKeys().clear();
            assertEquals(0, sel.selectNow());
            key.interestOps(SelectionKey.OP_WRITE);
            assertEquals(1, sel.selectNow());
            assertTrue(key.isWritable());
        }
    }

    @ParameterizedTest
    @MethodSource("envs")
    void blockingReceiveWokenByADatagramFromAnotherThread(Env env) throws Exception {
        try (DatagramChannel server = env.provider().openDatagramChannel().bind(env.udpServerAny());
                DatagramChannel client = env.provider().openDatagramChannel().bind(env.udpClientAny())) {
            Thread sender = Thread.ofVirtual().start(() -> {
                try {
                    Thread.sleep(100);
                    client.send(text("later"), server.getLocalAddress());
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
            });
            ByteBuffer got = ByteBuffer.allocate(16);
            assertEquals(client.getLocalAddress(), server.receive(got));
            assertEquals("later", text(got));
            sender.join();
        }
    }

    @ParameterizedTest
    @MethodSource("envs")
    void interruptingABlockedReceiveClosesTheChannel(Env env) throws Exception {
        try (DatagramChannel server = env.provider().openDatagramChannel().bind(env.udpServerAny())) {
            Throwable t = Blocked.thrownWhen(true, () -> server.receive(ByteBuffer.allocate(8)), Thread::interrupt);
            assertInstanceOf(ClosedByInterruptException.class, t);
            assertFalse(server.isOpen());
        }
    }

    @ParameterizedTest
    @MethodSource("envs")
    void closingWhileAnotherThreadReceivesGivesAsynchronousClose(Env env) throws Exception {
        DatagramChannel server = env.provider().openDatagramChannel().bind(env.udpServerAny());
        Throwable t = Blocked.thrownWhen(false, () -> server.receive(ByteBuffer.allocate(8)), x -> server.close());
        assertInstanceOf(AsynchronousCloseException.class, t);
    }

    @ParameterizedTest
    @MethodSource("envs")
    void datagramSocketAdaptorSendsReceivesAndTimesOut(Env env) throws Exception {
        try (DatagramChannel server = env.provider().openDatagramChannel().bind(env.udpServerAny());
                DatagramChannel client = env.provider().openDatagramChannel().bind(env.udpClientAny())) {
            DatagramSocket s = server.socket();
            s.setSoTimeout(100);
            DatagramPacket p = new DatagramPacket(new byte[32], 32);
            assertThrows(SocketTimeoutException.class, () -> s.receive(p));
            DatagramSocket c = client.socket();
            byte[] data = "packet".getBytes();
            c.send(new DatagramPacket(data, data.length, server.getLocalAddress()));
            s.receive(p);
            assertEquals("packet", new String(p.getData(), 0, p.getLength()));
            assertEquals(client.getLocalAddress(), p.getSocketAddress());
            assertEquals(((InetSocketAddress) server.getLocalAddress()).getPort(), s.getLocalPort());
            assertTrue(s.isBound());
            assertFalse(s.isConnected());
            s.close();
            assertTrue(s.isClosed());
            assertFalse(server.isOpen());
        }
    }

    /** The DatagramSocket-view cases also run on Slipstream's kernel fallback (loopback). */
    static java.util.stream.Stream<Env> allEnvs() {
        return Env.all();
    }

    @ParameterizedTest
    @MethodSource("allEnvs")
    void datagramSocketViewFillsInThePacketAddressOfAConnectedSend(Env env) throws Exception {
        try (DatagramChannel server = env.provider().openDatagramChannel().bind(env.udpServerAny());
                DatagramChannel client = env.datagramConnectedTo(server.getLocalAddress())) {
            DatagramSocket view = client.socket();
            DatagramPacket p = new DatagramPacket("to the peer".getBytes(), 11);
            assertNull(p.getAddress());
            view.send(p);
            assertEquals(server.getLocalAddress(), p.getSocketAddress(), "the connected peer, filled in");
            ByteBuffer got = ByteBuffer.allocate(32);
            assertEquals(client.getLocalAddress(), server.receive(got));
            assertEquals("to the peer", text(got));
            DatagramPacket elsewhere = new DatagramPacket(new byte[1], 1, new InetSocketAddress(env.udpServerHost(), 9));
            assertThrows(IllegalArgumentException.class, () -> view.send(elsewhere), "connected and packet address differ");
        }
    }

    @ParameterizedTest
    @MethodSource("allEnvs")
    void datagramSocketViewOfAnUnboundChannelReportsTheWildcard(Env env) throws Exception {
        DatagramChannel dc = env.provider().openDatagramChannel();
        DatagramSocket view = dc.socket();
        assertFalse(view.isBound());
        assertEquals(new InetSocketAddress(0).getAddress(), view.getLocalAddress());
        assertEquals(0, view.getLocalPort());
        assertNull(view.getLocalSocketAddress());
        view.close();
        assertNull(view.getLocalAddress(), "closed");
        assertEquals(-1, view.getLocalPort());
    }

    @ParameterizedTest
    @MethodSource("allEnvs")
    void datagramSocketViewConnectRefusesNullAndIgnoresAClosedSocket(Env env) throws Exception {
        DatagramChannel dc = env.provider().openDatagramChannel();
        DatagramSocket view = dc.socket();
        assertThrows(IllegalArgumentException.class, () -> view.connect(null, 9));
        assertThrows(IllegalArgumentException.class, () -> view.connect((SocketAddress) null));
        assertThrows(java.io.UncheckedIOException.class, () -> view.connect(env.udpServerHost(), 0));
        assertFalse(view.isConnected());
        view.close();
        assertThrows(IllegalArgumentException.class, () -> view.connect(null, 9));
        // "If the socket is already closed, then this method has no effect."
        view.connect(env.udpServerHost(), 9);
        view.connect(new InetSocketAddress(env.udpServerHost(), 9));
        assertFalse(view.isConnected());
    }

    @ParameterizedTest
    @MethodSource("allEnvs")
    void datagramSocketViewConnectsAgainToAnotherPeer(Env env) throws Exception {
        try (DatagramChannel first = env.provider().openDatagramChannel().bind(env.udpServerAny());
                DatagramChannel second = env.provider().openDatagramChannel().bind(env.udpServerAny());
                DatagramChannel client = env.provider().openDatagramChannel()) {
            DatagramSocket view = client.socket();
            view.connect(first.getLocalAddress());
            view.connect(second.getLocalAddress());
            assertEquals(second.getLocalAddress(), view.getRemoteSocketAddress());
            view.send(new DatagramPacket("again".getBytes(), 5));
            ByteBuffer got = ByteBuffer.allocate(16);
            assertEquals(client.getLocalAddress(), second.receive(got));
            assertEquals("again", text(got));
            assertThrows(AlreadyConnectedException.class, () -> client.connect(first.getLocalAddress()),
                    "the channel itself still refuses");
        }
    }

    @ParameterizedTest
    @MethodSource("allEnvs")
    void receiveReturnsTheSameAddressObjectWhileTheSenderRepeats(Env env) throws Exception {
        try (DatagramChannel server = env.provider().openDatagramChannel().bind(env.udpServerAny());
                DatagramChannel a = env.provider().openDatagramChannel().bind(env.udpClientAny());
                DatagramChannel b = env.provider().openDatagramChannel().bind(env.udpClientAny())) {
            SocketAddress to = server.getLocalAddress();
            a.send(text("a1"), to);
            a.send(text("a2"), to);
            b.send(text("b1"), to);
            a.send(text("a3"), to);
            ByteBuffer got = ByteBuffer.allocate(16);
            SocketAddress first = server.receive(got);
            assertEquals(a.getLocalAddress(), first);
            got.clear();
            assertSame(first, server.receive(got), "the same sender again: the cached address");
            got.clear();
            assertEquals(b.getLocalAddress(), server.receive(got));
            got.clear();
            assertEquals(a.getLocalAddress(), server.receive(got));
        }
    }

    @ParameterizedTest
    @MethodSource("envs")
    void optionsRoundTrip(Env env) throws Exception {
        try (DatagramChannel dc = env.provider().openDatagramChannel()) {
            dc.setOption(StandardSocketOptions.SO_RCVBUF, 100_000);
            dc.setOption(StandardSocketOptions.SO_REUSEADDR, true);
            dc.setOption(StandardSocketOptions.SO_BROADCAST, true);
            dc.bind(env.udpServerAny());
            assertTrue(dc.getOption(StandardSocketOptions.SO_RCVBUF) >= 100_000);
            assertTrue(dc.getOption(StandardSocketOptions.SO_REUSEADDR));
            assertTrue(dc.getOption(StandardSocketOptions.SO_BROADCAST));
            dc.setOption(StandardSocketOptions.SO_RCVBUF, 200_000);
            assertTrue(dc.getOption(StandardSocketOptions.SO_RCVBUF) >= 200_000);
            assertTrue(dc.getOption(StandardSocketOptions.SO_SNDBUF) > 0);
            assertEquals(0, dc.getOption(StandardSocketOptions.IP_TOS));
            dc.setOption(StandardSocketOptions.IP_TOS, 0x28); // DSCP AF11, no ECN bits
            assertEquals(0x28, dc.getOption(StandardSocketOptions.IP_TOS));
            dc.socket().setTrafficClass(0xB8); // DSCP EF
            assertEquals(0xB8, dc.socket().getTrafficClass());
            assertThrows(IllegalArgumentException.class, () -> dc.setOption(StandardSocketOptions.IP_TOS, 256));
            assertThrows(UnsupportedOperationException.class, () -> dc.setOption(StandardSocketOptions.TCP_NODELAY, true));
            assertThrows(IllegalArgumentException.class, () -> dc.setOption(StandardSocketOptions.SO_SNDBUF, -5));
        }
    }

    /** Set before the channel is placed: Slipstream's connect then moves it onto a stack with the TOS. */
    @ParameterizedTest
    @MethodSource("envs")
    void ipTosSetBeforeConnectIsKeptAndDatagramsStillFlow(Env env) throws Exception {
        try (DatagramChannel server = env.provider().openDatagramChannel().bind(env.udpServerAny())) {
            DatagramChannel client = env.provider().openDatagramChannel();
            try (client) {
                client.setOption(StandardSocketOptions.IP_TOS, 0x48);
                client.connect(server.getLocalAddress());
                assertEquals(1, client.write(ByteBuffer.wrap(new byte[] {42})));
                assertEquals(0x48, client.getOption(StandardSocketOptions.IP_TOS));
                ByteBuffer got = ByteBuffer.allocate(16);
                assertEquals(client.getLocalAddress(), server.receive(got));
                assertEquals(42, got.get(0));
            }
        }
    }

    @ParameterizedTest
    @MethodSource("envs")
    void misuseThrowsWhatTheJdkThrows(Env env) throws Exception {
        try (DatagramChannel dc = env.provider().openDatagramChannel()) {
            assertThrows(NotYetConnectedException.class, () -> dc.read(ByteBuffer.allocate(1)));
            assertThrows(NotYetConnectedException.class, () -> dc.write(text("x")));
            assertThrows(UnresolvedAddressException.class,
                    () -> dc.send(text("x"), InetSocketAddress.createUnresolved("nowhere.invalid", 9)));
            assertThrows(SocketException.class, () -> dc.send(text("x"), new InetSocketAddress(env.udpServerHost(), 0)));
            assertThrows(SocketException.class, () -> dc.connect(new InetSocketAddress(env.udpServerHost(), 0)));
            assertThrows(IllegalArgumentException.class, () -> dc.receive(ByteBuffer.allocate(1).asReadOnlyBuffer()));
            assertNotNull(dc.getLocalAddress(), "a send binds the channel first, even one that then fails");
            assertThrows(AlreadyBoundException.class, () -> dc.bind(env.udpServerAny()));
        }
        DatagramChannel closed = env.provider().openDatagramChannel();
        closed.close();
        assertThrows(ClosedChannelException.class, () -> closed.send(text("x"), new InetSocketAddress(env.udpServerHost(), 9)));
        assertThrows(ClosedChannelException.class, () -> closed.receive(ByteBuffer.allocate(1)));
        assertThrows(ClosedChannelException.class, closed::getLocalAddress);
    }

    // ---------------------------------------------------------------- multicast, through the kernel's lo

    /**
     * Multicast on the loopback interface: Linux sends a group datagram out of lo when
     * IP_MULTICAST_IF names it (no route needed) and delivers it to lo's members. Slipstream's
     * channels decide the kernel at the join or at the multicast option. Absence of delivery is
     * shown without waiting: a unicast marker sent after the group datagram must be the next
     * datagram received (lo delivers in order).
     */
    private static NetworkInterface lo() throws SocketException {
        NetworkInterface lo = NetworkInterface.getByName("lo");
        assertNotNull(lo, "the loopback interface");
        return lo;
    }

    private static final class Group implements AutoCloseable {
        final InetAddress group;
        final DatagramChannel member;
        final DatagramChannel sender;
        final InetSocketAddress groupAddress;
        final InetSocketAddress memberDirect;

        Group(Env env, String group) throws Exception {
            this.group = InetAddress.getByName(group);
            member = env.provider().openDatagramChannel();
            sender = env.provider().openDatagramChannel();
            member.bind(new InetSocketAddress(0));
            int port = ((InetSocketAddress) member.getLocalAddress()).getPort();
            groupAddress = new InetSocketAddress(this.group, port);
            memberDirect = new InetSocketAddress(InetAddress.getLoopbackAddress(), port);
            sender.setOption(StandardSocketOptions.IP_MULTICAST_IF, lo());
            sender.setOption(StandardSocketOptions.IP_MULTICAST_LOOP, true);
            sender.setOption(StandardSocketOptions.IP_MULTICAST_TTL, 1);
        }

        /** Sends {@code text} to the group, then a unicast marker; returns what the member receives first. */
        String sendToGroupThenMarker(String text) throws Exception {
            sender.send(text(text), groupAddress);
            sender.send(text("marker"), memberDirect);
            return receive();
        }

        String receive() throws Exception {
            ByteBuffer got = ByteBuffer.allocate(64);
            InetSocketAddress from = (InetSocketAddress) member.receive(got);
            assertEquals(((InetSocketAddress) sender.getLocalAddress()).getPort(), from.getPort());
            return text(got);
        }

        @Override
        public void close() throws Exception {
            member.close();
            sender.close();
        }
    }

    @ParameterizedTest
    @MethodSource("envs")
    void multicastReachesTheMemberUntilItDrops(Env env) throws Exception {
        try (Group g = new Group(env, "239.255.77.1")) {
            assertEquals("marker", g.sendToGroupThenMarker("before join"), "not a member yet");
            MembershipKey key = g.member.join(g.group, lo());
            assertTrue(key.isValid());
            assertEquals(g.group, key.group());
            assertEquals(lo(), key.networkInterface());
            assertNull(key.sourceAddress());
            assertEquals(g.member, key.channel());
            assertEquals(key, g.member.join(g.group, lo()), "joining again returns the same key");
            assertEquals("to the group", g.sendToGroupThenMarker("to the group"));
            assertEquals("marker", g.receive());
            key.drop();
            assertFalse(key.isValid());
            key.drop(); // a no-op
            assertEquals("marker", g.sendToGroupThenMarker("after drop"), "no delivery after drop");
            assertThrows(IllegalStateException.class, () -> key.block(InetAddress.getLoopbackAddress()));
        }
    }

    @ParameterizedTest
    @MethodSource("envs")
    void anUnboundChannelJoinsThenBindsAndReceives(Env env) throws Exception {
        InetAddress group = InetAddress.getByName("239.255.77.2");
        try (DatagramChannel member = env.provider().openDatagramChannel();
                DatagramChannel sender = env.provider().openDatagramChannel()) {
            MembershipKey key = member.join(group, lo());
            assertNull(member.getLocalAddress(), "joining does not bind");
            member.bind(new InetSocketAddress(0));
            sender.setOption(StandardSocketOptions.IP_MULTICAST_IF, lo());
            int port = ((InetSocketAddress) member.getLocalAddress()).getPort();
            sender.send(text("hello group"), new InetSocketAddress(group, port));
            ByteBuffer got = ByteBuffer.allocate(64);
            assertNotNull(member.receive(got));
            assertEquals("hello group", text(got));
            member.close();
            assertFalse(key.isValid(), "closing the channel invalidates its keys");
        }
    }

    @ParameterizedTest
    @MethodSource("envs")
    void anAnySourceKeyBlocksAndUnblocksASource(Env env) throws Exception {
        InetAddress self = InetAddress.getLoopbackAddress();
        try (Group g = new Group(env, "239.255.77.3")) {
            MembershipKey key = g.member.join(g.group, lo());
            assertEquals(key, key.block(self));
            assertEquals(key, key.block(self), "blocking twice is a no-op");
            assertEquals("marker", g.sendToGroupThenMarker("blocked"), "a blocked source is not delivered");
            assertEquals(key, key.unblock(self));
            assertEquals("unblocked", g.sendToGroupThenMarker("unblocked"));
            assertEquals("marker", g.receive());
            assertThrows(IllegalStateException.class, () -> key.unblock(self), "not blocked");
            assertThrows(IllegalArgumentException.class, () -> key.block(g.group), "a multicast source");
            assertThrows(IllegalArgumentException.class, () -> key.block(InetAddress.getByName("0.0.0.0")));
            assertThrows(IllegalStateException.class, () -> g.member.join(g.group, lo(), self),
                    "already an any-source member");
        }
    }

    @ParameterizedTest
    @MethodSource("envs")
    void aSourceSpecificKeyReceivesFromItsSourceOnly(Env env) throws Exception {
        InetAddress self = InetAddress.getLoopbackAddress();
        try (Group g = new Group(env, "239.255.77.4")) {
            MembershipKey other = g.member.join(g.group, lo(), InetAddress.getByName("127.0.0.2"));
            assertEquals("marker", g.sendToGroupThenMarker("from a source not joined"));
            MembershipKey key = g.member.join(g.group, lo(), self);
            assertEquals(self, key.sourceAddress());
            assertEquals(key, g.member.join(g.group, lo(), self));
            assertEquals("from the source", g.sendToGroupThenMarker("from the source"));
            assertEquals("marker", g.receive());
            assertThrows(IllegalStateException.class, () -> key.block(self), "key is source-specific");
            assertThrows(IllegalStateException.class, () -> g.member.join(g.group, lo()),
                    "already a source-specific member");
            key.drop();
            other.drop();
            assertEquals("marker", g.sendToGroupThenMarker("after drop"));
        }
    }

    @ParameterizedTest
    @MethodSource("envs")
    void joinMisuseThrowsWhatTheJdkThrows(Env env) throws Exception {
        NetworkInterface lo = lo();
        InetAddress group = InetAddress.getByName("239.255.77.5");
        try (DatagramChannel dc = env.provider().openDatagramChannel(StandardProtocolFamily.INET)) {
            assertThrows(IllegalArgumentException.class, () -> dc.join(InetAddress.getByName("198.18.0.1"), lo));
            assertThrows(IllegalArgumentException.class, () -> dc.join(InetAddress.getByName("ff02::1"), lo),
                    "an IPv6 group on an IPv4 channel");
            assertThrows(IllegalArgumentException.class, () -> dc.join(group, lo, InetAddress.getByName("239.1.1.1")));
            assertThrows(IllegalArgumentException.class, () -> dc.join(group, lo, InetAddress.getByName("0.0.0.0")));
            assertThrows(IllegalArgumentException.class, () -> dc.join(group, lo, InetAddress.getByName("::1")));
            assertThrows(NullPointerException.class, () -> dc.join(group, null));
            assertThrows(NullPointerException.class, () -> dc.join(group, lo, null));
        }
        DatagramChannel closed = env.provider().openDatagramChannel();
        closed.close();
        assertThrows(ClosedChannelException.class, () -> closed.join(group, lo));
    }

    @ParameterizedTest
    @MethodSource("envs")
    void multicastOptionsRoundTrip(Env env) throws Exception {
        for (StandardProtocolFamily family : new StandardProtocolFamily[] {StandardProtocolFamily.INET, null}) {
            try (DatagramChannel dc = family == null ? env.provider().openDatagramChannel()
                    : env.provider().openDatagramChannel(family)) {
                assertTrue(dc.supportedOptions().contains(StandardSocketOptions.IP_MULTICAST_IF));
                assertNull(dc.getOption(StandardSocketOptions.IP_MULTICAST_IF), "unset: the kernel chooses");
                assertEquals(1, dc.getOption(StandardSocketOptions.IP_MULTICAST_TTL));
                assertTrue(dc.getOption(StandardSocketOptions.IP_MULTICAST_LOOP));
                dc.setOption(StandardSocketOptions.IP_MULTICAST_IF, lo());
                dc.setOption(StandardSocketOptions.IP_MULTICAST_TTL, 7);
                dc.setOption(StandardSocketOptions.IP_MULTICAST_LOOP, false);
                assertEquals(lo(), dc.getOption(StandardSocketOptions.IP_MULTICAST_IF));
                assertEquals(7, dc.getOption(StandardSocketOptions.IP_MULTICAST_TTL));
                assertFalse(dc.getOption(StandardSocketOptions.IP_MULTICAST_LOOP));
                assertThrows(IllegalArgumentException.class, () -> dc.setOption(StandardSocketOptions.IP_MULTICAST_IF, null));
                assertThrows(IllegalArgumentException.class, () -> dc.setOption(StandardSocketOptions.IP_MULTICAST_TTL, 256));
            }
        }
    }

    @ParameterizedTest
    @MethodSource("envs")
    void datagramSocketViewJoinsAndLeavesGroups(Env env) throws Exception {
        try (Group g = new Group(env, "239.255.77.6")) {
            DatagramSocket view = g.member.socket();
            InetSocketAddress group = new InetSocketAddress(g.group, 0);
            view.joinGroup(group, lo());
            assertThrows(SocketException.class, () -> view.joinGroup(group, lo()), "already a member");
            assertEquals("through the view", g.sendToGroupThenMarker("through the view"));
            assertEquals("marker", g.receive());
            view.leaveGroup(group, lo());
            assertThrows(SocketException.class, () -> view.leaveGroup(group, lo()), "not a member");
            assertEquals("marker", g.sendToGroupThenMarker("after leave"));
            assertThrows(SocketException.class, () -> view.joinGroup(new InetSocketAddress("198.18.0.1", 0), lo()));
            // Without an interface: the one IP_MULTICAST_IF names.
            g.member.setOption(StandardSocketOptions.IP_MULTICAST_IF, lo());
            view.joinGroup(group, null);
            assertEquals("default interface", g.sendToGroupThenMarker("default interface"));
            assertEquals("marker", g.receive());
            view.leaveGroup(group, null);
        }
    }
}
