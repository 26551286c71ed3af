package io.slipstream.shim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketOption;
import java.net.SocketTimeoutException;
import java.net.StandardSocketOptions;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.AlreadyBoundException;
import java.nio.channels.AlreadyConnectedException;
import java.nio.channels.AsynchronousCloseException;
import java.nio.channels.ClosedByInterruptException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ConnectionPendingException;
import java.nio.channels.IllegalBlockingModeException;
import java.nio.channels.NetworkChannel;
import java.nio.channels.NoConnectionPendingException;
import java.nio.channels.NotYetBoundException;
import java.nio.channels.NotYetConnectedException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.channels.UnresolvedAddressException;
import java.nio.channels.UnsupportedAddressTypeException;
import java.security.MessageDigest;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import jdk.net.ExtendedSocketOptions;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The TCP half of the differential suite: every case runs against the JDK's own provider and
 * against Slipstream's, with the same assertions.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class TcpChannelDifferentialTest {

    static java.util.stream.Stream<Env> envs() {
        return Env.all();
    }

    /** A listener, a connected client and the accepted end, all blocking. */
    record Conn(ServerSocketChannel server, SocketChannel client, SocketChannel accepted) implements AutoCloseable {
        static Conn open(Env env) throws Exception {
            ServerSocketChannel server = env.provider().openServerSocketChannel().bind(env.tcpAny());
            SocketChannel client = env.provider().openSocketChannel();
            assertTrue(client.connect(server.getLocalAddress()));
            SocketChannel accepted = server.accept();
            return new Conn(server, client, accepted);
        }

        @Override
        public void close() throws Exception {
            client.close();
            accepted.close();
            server.close();
        }
    }

    @ParameterizedTest
    @MethodSource("envs")
    void connectAcceptAndEcho(Env env) throws Exception {
        try (Conn c = Conn.open(env)) {
            assertTrue(c.client().isConnected());
            assertTrue(c.accepted().isConnected());
            assertEquals(c.server().getLocalAddress(), c.client().getRemoteAddress());
            assertEquals(c.client().getLocalAddress(), c.accepted().getRemoteAddress());
            assertThrows(IllegalArgumentException.class, () -> c.client().read(ByteBuffer.allocate(1).asReadOnlyBuffer()));
            c.client().write(ByteBuffer.wrap("ping".getBytes()));
            ByteBuffer got = ByteBuffer.allocate(16);
            while (got.position() < 4) {
                assertTrue(c.accepted().read(got) > 0);
            }
            got.flip();
            c.accepted().write(got);
            ByteBuffer back = ByteBuffer.allocateDirect(16);
            while (back.position() < 4) {
                assertTrue(c.client().read(back) > 0);
            }
            back.flip();
            byte[] b = new byte[4];
            back.get(b);
            assertEquals("ping", new String(b));
        }
    }

    @ParameterizedTest
    @MethodSource("envs")
    void scatteringAndGatheringTransfer(Env env) throws Exception {
        try (Conn c = Conn.open(env)) {
            ByteBuffer[] out = {ByteBuffer.wrap(new byte[] {1, 2, 3}), ByteBuffer.allocate(0), ByteBuffer.wrap(new byte[] {4, 5})};
            assertEquals(5, c.client().write(out));
            ByteBuffer[] in = {ByteBuffer.allocate(2), ByteBuffer.allocateDirect(10)};
            long n = 0;
            while (n < 5) {
                n += c.accepted().read(in);
            }
            assertEquals(5, n);
            assertArrayEquals(new byte[] {1, 2}, in[0].array());
            assertEquals(3, in[1].position());
            assertEquals(3, in[1].get(0));
            assertEquals(5, in[1].get(2));
        }
    }

    @ParameterizedTest
    @MethodSource("envs")
    void largeTransferArrivesIntact(Env env) throws Exception {
        int size = 8 << 20;
        byte[] data = new byte[size];
        new SplittableRandom(7).nextBytes(data);
        byte[] expected = MessageDigest.getInstance("SHA-256").digest(data);
        try (Conn c = Conn.open(env)) {
            CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> {
                try {
                    ByteBuffer src = ByteBuffer.wrap(data);
                    while (src.hasRemaining()) {
                        // Uneven slices, so both heap and partial writes are exercised.
                        ByteBuffer slice = src.slice(src.position(), Math.min(src.remaining(), 70_001));
                        int n = c.client().write(slice);
                        src.position(src.position() + n);
                    }
                    c.client().shutdownOutput();
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
            });
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            ByteBuffer buf = ByteBuffer.allocateDirect(65_536);
            long total = 0;
            int n;
            while ((n = c.accepted().read(buf)) >= 0) {
                buf.flip();
                md.update(buf);
                buf.clear();
                total += n;
            }
            writer.get(30, TimeUnit.SECONDS);
            assertEquals(size, total);
            assertArrayEquals(expected, md.digest());
        }
    }

    @ParameterizedTest
    @MethodSource("envs")
    void halfCloseDeliversEndOfStreamAndKeepsTheOtherDirection(Env env) throws Exception {
        try (Conn c = Conn.open(env)) {
            c.client().shutdownOutput();
            assertEquals(-1, c.accepted().read(ByteBuffer.allocate(8)));
            assertThrows(ClosedChannelException.class, () -> c.client().write(ByteBuffer.wrap(new byte[1])));
            c.accepted().write(ByteBuffer.wrap("late".getBytes()));
            ByteBuffer got = ByteBuffer.allocate(8);
            while (got.position() < 4) {
                assertTrue(c.client().read(got) > 0);
            }
            c.client().shutdownInput();
            assertEquals(-1, c.client().read(ByteBuffer.allocate(8)));
            assertTrue(c.client().socket().isInputShutdown());
            assertTrue(c.client().socket().isOutputShutdown());
        }
    }

    /**
     * Data written after the peer closed its socket is answered with a RST (RFC 1122
     * §4.2.2.13), so the writer learns that it was lost: a later write fails. (Linux reports a
     * RST in CLOSE-WAIT as EPIPE, "Broken pipe"; the stack reports "Connection reset".)
     */
    @ParameterizedTest
    @MethodSource("envs")
    void writeAfterThePeerClosedFailsOnceItsResetArrives(Env env) throws Exception {
        try (Conn c = Conn.open(env)) {
            c.accepted().close();
            assertEquals(-1, c.client().read(ByteBuffer.allocate(8)), "the peer's FIN");
            assertEquals(4, c.client().write(ByteBuffer.wrap("lost".getBytes())), "queued locally");
            java.io.IOException failed = null;
            for (int i = 0; i < 400 && failed == null; i++) {
                Thread.sleep(5);
                try {
                    c.client().write(ByteBuffer.wrap(new byte[1]));
                } catch (java.io.IOException e) {
                    failed = e;
                }
            }
            assertNotNull(failed, "a write fails once the peer's RST arrived");
            assertFalse(failed instanceof ClosedChannelException, failed.toString());
            assertTrue(c.client().isOpen());
        }
    }

    @ParameterizedTest
    @MethodSource("envs")
    void refusedConnectThrowsConnectExceptionAndClosesTheChannel(Env env) throws Exception {
        InetSocketAddress free = env.closedTcpPort();
        SocketChannel sc = env.provider().openSocketChannel();
        ConnectException e = assertThrows(ConnectException.class, () -> sc.connect(free));
        assertEquals("Connection refused", e.getMessage());
        assertFalse(sc.isOpen());

        SocketChannel nb = env.provider().openSocketChannel();
        nb.configureBlocking(false);
        boolean now = false;
        try {
            now = nb.connect(free);
        } catch (ConnectException refusedAtOnce) {
            assertFalse(nb.isOpen());
            return;
        }
        assertFalse(now);
        try (Selector sel = env.provider().openSelector()) {
            nb.register(sel, SelectionKey.OP_CONNECT);
            assertEquals(1, sel.select(10_000));
            assertThrows(ConnectException.class, nb::finishConnect);
            assertFalse(nb.isOpen());
        }
    }

    @ParameterizedTest
    @MethodSource("envs")
    void readTimeoutThroughTheSocketAdaptor(Env env) throws Exception {
        try (Conn c = Conn.open(env)) {
            Socket s = c.client().socket();
            s.setSoTimeout(100);
            assertEquals(100, s.getSoTimeout());
            InputStream in = s.getInputStream();
            assertThrows(SocketTimeoutException.class, in::read);
            assertTrue(c.client().isOpen());
            c.accepted().write(ByteBuffer.wrap(new byte[] {42}));
            assertEquals(42, in.read());
        }
    }

    @ParameterizedTest
    @MethodSource("envs")
    void socketAdaptorStreamAvailableCountsAndThrowsOnceClosed(Env env) throws Exception {
        try (Conn c = Conn.open(env)) {
            InputStream in = c.client().socket().getInputStream();
            assertEquals(0, in.available());
            c.accepted().write(ByteBuffer.wrap(new byte[] {1, 2, 3}));
            assertEquals(1, in.read());
            assertEquals(2, in.available(), "one segment arrived; one byte of it read");
            c.client().shutdownInput();
            assertEquals(0, in.available(), "input shut down");
            in.close();
            assertFalse(c.client().isOpen(), "closing the stream closes the channel");
            assertThrows(java.io.IOException.class, in::available);
        }
    }

    @ParameterizedTest
    @MethodSource("envs")
    void acceptTimeoutThroughTheServerSocketAdaptor(Env env) throws Exception {
        try (ServerSocketChannel server = env.provider().openServerSocketChannel().bind(env.tcpAny())) {
            server.socket().setSoTimeout(100);
            assertThrows(SocketTimeoutException.class, () -> server.socket().accept());
            assertTrue(server.isOpen());
        }
    }

    @ParameterizedTest
    @MethodSource("envs")
    void socketAdaptorStreamsAndOptions(Env env) throws Exception {
        try (ServerSocketChannel server = env.provider().openServerSocketChannel().bind(env.tcpAny())) {
            SocketChannel sc = env.provider().openSocketChannel();
            Socket s = sc.socket();
            assertFalse(s.isConnected());
            assertFalse(s.isBound());
            s.connect(server.getLocalAddress(), 5_000);
            assertTrue(s.isConnected());
            assertTrue(s.isBound());
            assertEquals(((InetSocketAddress) server.getLocalAddress()).getPort(), s.getPort());
            s.setTcpNoDelay(true);
            assertTrue(s.getTcpNoDelay());
            s.setKeepAlive(true);
            assertTrue(s.getKeepAlive());
            s.setSoLinger(true, 3);
            assertEquals(3, s.getSoLinger());
            s.setSoLinger(false, 0);
            assertEquals(-1, s.getSoLinger());
            Socket peer = server.socket().accept();
            OutputStream out = s.getOutputStream();
            out.write("over the adaptor".getBytes());
            byte[] got = peer.getInputStream().readNBytes(16);
            assertEquals("over the adaptor", new String(got));
            assertTrue(peer.getChannel() instanceof SocketChannel);
            s.close();
            assertTrue(s.isClosed());
            assertFalse(sc.isOpen());
            assertEquals(-1, peer.getInputStream().read());
            peer.close();
        }
    }

    @ParameterizedTest
    @MethodSource("envs")
    void interruptingABlockedReadClosesTheChannel(Env env) throws Exception {
        try (Conn c = Conn.open(env)) {
            AtomicReference<Boolean> stillInterrupted = new AtomicReference<>();
            Throwable t = Blocked.thrownWhen(false, () -> {
                try {
                    c.client().read(ByteBuffer.allocate(8));
                } finally {
                    stillInterrupted.set(Thread.currentThread().isInterrupted());
                }
            }, Thread::interrupt);
            assertInstanceOf(ClosedByInterruptException.class, t);
            assertTrue(stillInterrupted.get());
            assertFalse(c.client().isOpen());
        }
    }

    @ParameterizedTest
    @MethodSource("envs")
    void interruptedThreadCannotStartABlockingRead(Env env) throws Exception {
        try (Conn c = Conn.open(env)) {
            Thread.currentThread().interrupt();
            try {
                assertThrows(ClosedByInterruptException.class, () -> c.client().read(ByteBuffer.allocate(8)));
            } finally {
                assertTrue(Thread.interrupted());
            }
            assertFalse(c.client().isOpen());
        }
    }

    @ParameterizedTest
    @MethodSource("envs")
    void interruptingAVirtualThreadBlockedInAccept(Env env) throws Exception {
        try (ServerSocketChannel server = env.provider().openServerSocketChannel().bind(env.tcpAny())) {
            assertInstanceOf(ClosedByInterruptException.class, Blocked.thrownWhen(true, server::accept, Thread::interrupt));
            assertFalse(server.isOpen());
        }
    }

    @ParameterizedTest
    @MethodSource("envs")
    void closingWhileAnotherThreadReadsGivesAsynchronousClose(Env env) throws Exception {
        try (Conn c = Conn.open(env)) {
            Throwable t = Blocked.thrownWhen(false, () -> c.client().read(ByteBuffer.allocate(8)), x -> c.client().close());
            assertInstanceOf(AsynchronousCloseException.class, t);
        }
    }

    @ParameterizedTest
    @MethodSource("envs")
    void closingWhileAnotherThreadAcceptsGivesAsynchronousClose(Env env) throws Exception {
        ServerSocketChannel server = env.provider().openServerSocketChannel().bind(env.tcpAny());
        assertInstanceOf(AsynchronousCloseException.class, Blocked.thrownWhen(false, server::accept, x -> server.close()));
    }

    @ParameterizedTest
    @MethodSource("envs")
    void nonBlockingConnectAcceptAndEchoWithASelector(Env env) throws Exception {
        try (Selector sel = env.provider().openSelector();
                ServerSocketChannel server = env.provider().openServerSocketChannel().bind(env.tcpAny());
                SocketChannel client = env.provider().openSocketChannel()) {
            server.configureBlocking(false);
            assertNull(server.accept());
            SelectionKey acceptKey = server.register(sel, SelectionKey.OP_ACCEPT);
            client.configureBlocking(false);
            boolean connected = client.connect(server.getLocalAddress());
            SelectionKey clientKey = client.register(sel, connected ? SelectionKey.OP_WRITE : SelectionKey.OP_CONNECT);
            SocketChannel accepted = null;
            boolean sent = false;
            ByteBuffer echo = ByteBuffer.allocate(64);
            ByteBuffer got = ByteBuffer.allocate(64);
            for (int round = 0; round < 1000 && got.position() < 5; round++) {
                sel.select(5_000);
                for (SelectionKey k : sel.selectedKeys()) {
                    if (k == acceptKey && k.isAcceptable()) {
                        accepted = server.accept();
                        assertNotNull(accepted);
                        accepted.configureBlocking(false);
                        accepted.register(sel, SelectionKey.OP_READ);
                    } else if (k == clientKey && k.isConnectable()) {
                        assertTrue(client.finishConnect());
                        k.interestOps(SelectionKey.OP_WRITE);
                    } else if (k == clientKey && k.isWritable() && !sent) {
                        client.write(ByteBuffer.wrap("hello".getBytes()));
                        sent = true;
                        k.interestOps(SelectionKey.OP_READ);
                    } else if (k == clientKey && k.isReadable()) {
                        client.read(got);
                    } else if (k.channel() == accepted && k.isReadable()) {
                        echo.clear();
                        int n = accepted.read(echo);
                        if (n > 0) {
                            echo.flip();
                            accepted.write(echo);
                        }
                    }
                }
                sel.selectedKeys().clear();
            }
            assertEquals("hello", new String(got.array(), 0, got.position()));
            accepted.close();
        }
    }

    /** Sets {@code name} to {@code value} and reads the same value back. */
    private static <T> void assertRoundTrip(NetworkChannel c, SocketOption<T> name, T value) throws IOException {
        c.setOption(name, value);
        assertEquals(value, c.getOption(name));
    }

    /** Buffer sizes are hints (at least what was asked); keepalive timing reads back exactly. */
    private static void assertBuffersAndKeepAliveRoundTrip(SocketChannel sc, int idle, int interval, int count)
            throws Exception {
        sc.setOption(StandardSocketOptions.SO_RCVBUF, 65_536);
        assertTrue(sc.getOption(StandardSocketOptions.SO_RCVBUF) >= 65_536);
        sc.setOption(StandardSocketOptions.SO_SNDBUF, 65_536);
        assertTrue(sc.getOption(StandardSocketOptions.SO_SNDBUF) >= 65_536);
        assertRoundTrip(sc, ExtendedSocketOptions.TCP_KEEPIDLE, idle);
        assertRoundTrip(sc, ExtendedSocketOptions.TCP_KEEPINTERVAL, interval);
        assertRoundTrip(sc, ExtendedSocketOptions.TCP_KEEPCOUNT, count);
    }

    @ParameterizedTest
    @MethodSource("envs")
    void optionsRoundTrip(Env env) throws Exception {
        try (SocketChannel sc = env.provider().openSocketChannel()) {
            assertFalse(sc.getOption(StandardSocketOptions.TCP_NODELAY));
            assertRoundTrip(sc, StandardSocketOptions.TCP_NODELAY, true);
            assertRoundTrip(sc, StandardSocketOptions.SO_KEEPALIVE, true);
            assertRoundTrip(sc, StandardSocketOptions.SO_REUSEADDR, true);
            assertRoundTrip(sc, StandardSocketOptions.SO_REUSEPORT, true);
            assertEquals(-1, sc.getOption(StandardSocketOptions.SO_LINGER));
            assertRoundTrip(sc, StandardSocketOptions.SO_LINGER, 7);
            sc.setOption(StandardSocketOptions.SO_LINGER, 100_000);
            assertEquals(65_535, sc.getOption(StandardSocketOptions.SO_LINGER));
            assertRoundTrip(sc, StandardSocketOptions.SO_LINGER, -1);
            assertBuffersAndKeepAliveRoundTrip(sc, 30, 5, 4);
            assertRoundTrip(sc, StandardSocketOptions.IP_TOS, 0x10);
            assertThrows(IllegalArgumentException.class, () -> sc.setOption(StandardSocketOptions.IP_TOS, 256));
            assertThrows(IllegalArgumentException.class, () -> sc.setOption(StandardSocketOptions.SO_RCVBUF, -1));
            assertThrows(UnsupportedOperationException.class, () -> sc.setOption(StandardSocketOptions.SO_BROADCAST, true));
            assertThrows(NullPointerException.class, () -> sc.getOption(null));
            assertTrue(sc.supportedOptions().contains(StandardSocketOptions.TCP_NODELAY));
        }
        try (ServerSocketChannel ssc = env.provider().openServerSocketChannel()) {
            assertTrue(ssc.getOption(StandardSocketOptions.SO_REUSEADDR), "listeners reuse addresses by default");
            ssc.setOption(StandardSocketOptions.SO_RCVBUF, 32_768);
            assertTrue(ssc.getOption(StandardSocketOptions.SO_RCVBUF) >= 32_768);
            assertThrows(UnsupportedOperationException.class, () -> ssc.setOption(StandardSocketOptions.TCP_NODELAY, true));
        }
        SocketChannel closed = env.provider().openSocketChannel();
        closed.close();
        assertThrows(ClosedChannelException.class, () -> closed.getOption(StandardSocketOptions.TCP_NODELAY));
        assertThrows(ClosedChannelException.class, () -> closed.setOption(StandardSocketOptions.TCP_NODELAY, true));
    }

    @ParameterizedTest
    @MethodSource("envs")
    void misuseThrowsWhatTheJdkThrows(Env env) throws Exception {
        try (SocketChannel sc = env.provider().openSocketChannel();
                ServerSocketChannel unbound = env.provider().openServerSocketChannel();
                Selector sel = env.provider().openSelector()) {
            assertThrows(NotYetConnectedException.class, () -> sc.read(ByteBuffer.allocate(1)));
            assertThrows(NotYetConnectedException.class, () -> sc.write(ByteBuffer.allocate(1)));
            assertThrows(NotYetConnectedException.class, sc::shutdownInput);
            assertThrows(NoConnectionPendingException.class, sc::finishConnect);
            assertThrows(IllegalBlockingModeException.class, () -> sc.register(sel, SelectionKey.OP_READ));
            assertThrows(UnresolvedAddressException.class,
                    () -> sc.connect(InetSocketAddress.createUnresolved("nowhere.invalid", 80)));
            assertTrue(sc.isOpen(), "an unresolved address does not close the channel");
            assertThrows(UnsupportedAddressTypeException.class, () -> sc.connect(UnixDomainSocketAddress.of("/tmp/x")));
            assertThrows(NotYetBoundException.class, unbound::accept);
            assertThrows(IllegalArgumentException.class, () -> {
                sc.configureBlocking(false);
                sc.register(sel, SelectionKey.OP_ACCEPT);
            });
            unbound.bind(env.tcpAny());
            assertThrows(AlreadyBoundException.class, () -> unbound.bind(env.tcpAny()));
            sc.configureBlocking(false);
            boolean connected = sc.connect(unbound.getLocalAddress());
            if (connected) {
                assertThrows(AlreadyConnectedException.class, () -> sc.connect(unbound.getLocalAddress()));
            } else {
                assertThrows(ConnectionPendingException.class, () -> sc.connect(unbound.getLocalAddress()));
                assertThrows(ConnectionPendingException.class, () -> sc.bind(null));
            }
        }
        SocketChannel closed = env.provider().openSocketChannel();
        closed.close();
        assertThrows(ClosedChannelException.class, () -> closed.connect(new InetSocketAddress(env.tcpHost(), 1)));
        assertThrows(ClosedChannelException.class, () -> closed.bind(null));
        assertThrows(ClosedChannelException.class, closed::getLocalAddress);
        closed.close(); // idempotent
    }

    @ParameterizedTest
    @MethodSource("envs")
    void fiveHundredVirtualThreadConnectionsEchoConcurrently(Env env) throws Exception {
        int connections = 500;
        try (ServerSocketChannel server = env.provider().openServerSocketChannel().bind(env.tcpAny(), connections);
                var executor = java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor()) {
            executor.submit(() -> {
                for (int i = 0; i < connections; i++) {
                    SocketChannel s = server.accept();
                    executor.submit(() -> {
                        try (s) {
                            ByteBuffer b = ByteBuffer.allocate(8);
                            while (b.hasRemaining() && s.read(b) >= 0) {
                                // read the whole request
                            }
                            b.flip();
                            s.write(b);
                        }
                        return null;
                    });
                }
                return null;
            });
            java.util.List<java.util.concurrent.Future<Long>> replies = new java.util.ArrayList<>();
            for (int i = 0; i < connections; i++) {
                long id = i;
                replies.add(executor.submit(() -> {
                    try (SocketChannel c = env.provider().openSocketChannel()) {
                        c.connect(server.getLocalAddress());
                        c.write(ByteBuffer.allocate(8).putLong(0, id));
                        ByteBuffer b = ByteBuffer.allocate(8);
                        while (b.hasRemaining() && c.read(b) >= 0) {
                            // read the whole reply
                        }
                        return b.getLong(0);
                    }
                }));
            }
            for (int i = 0; i < connections; i++) {
                assertEquals(i, replies.get(i).get(30, TimeUnit.SECONDS));
            }
        }
    }

    @ParameterizedTest
    @MethodSource("envs")
    void ipTosSetBeforeConnectIsKeptOnTheConnection(Env env) throws Exception {
        try (ServerSocketChannel ssc = env.provider().openServerSocketChannel().bind(env.tcpAny());
                SocketChannel sc = env.provider().openSocketChannel()) {
            sc.setOption(StandardSocketOptions.IP_TOS, 0x48);
            sc.connect(ssc.getLocalAddress());
            if (sc instanceof ShimSocketChannel shim && env.accelerated()) {
                assertTrue(shim.isAccelerated(), "IP_TOS no longer keeps a connection on the kernel");
            }
            assertEquals(0x48, sc.getOption(StandardSocketOptions.IP_TOS));
            try (SocketChannel accepted = ssc.accept()) {
                sc.write(ByteBuffer.wrap(new byte[] {42}));
                ByteBuffer b = ByteBuffer.allocate(1);
                assertEquals(1, accepted.read(b));
                assertEquals(42, b.get(0));
            }
        }
    }

    @ParameterizedTest
    @MethodSource("envs")
    void optionsRoundTripOnAConnectedChannel(Env env) throws Exception {
        try (Conn c = Conn.open(env)) {
            SocketChannel sc = c.client();
            assertRoundTrip(sc, StandardSocketOptions.TCP_NODELAY, true);
            assertRoundTrip(sc, StandardSocketOptions.TCP_NODELAY, false);
            assertRoundTrip(sc, StandardSocketOptions.SO_KEEPALIVE, true);
            assertEquals(-1, sc.getOption(StandardSocketOptions.SO_LINGER));
            assertRoundTrip(sc, StandardSocketOptions.SO_LINGER, 9);
            assertRoundTrip(sc, StandardSocketOptions.SO_LINGER, -1);
            assertBuffersAndKeepAliveRoundTrip(sc, 40, 6, 3);
            assertEquals(0, sc.getOption(StandardSocketOptions.IP_TOS));
            assertRoundTrip(sc, StandardSocketOptions.IP_TOS, 0x28);
            sc.setOption(StandardSocketOptions.IP_TOS, 0xB9);
            assertEquals(0xB8, sc.getOption(StandardSocketOptions.IP_TOS), "TCP keeps the ECN bits to itself");
            assertEquals(0xB8, sc.socket().getTrafficClass());
            assertTrue(sc.getOption(ExtendedSocketOptions.TCP_QUICKACK));
            assertRoundTrip(sc, ExtendedSocketOptions.TCP_QUICKACK, false);
            assertRoundTrip(sc, ExtendedSocketOptions.TCP_QUICKACK, true);
            assertThrows(IllegalArgumentException.class, () -> sc.setOption(StandardSocketOptions.SO_LINGER, null));
            // the connection still works after all that
            sc.write(ByteBuffer.wrap(new byte[] {7}));
            ByteBuffer b = ByteBuffer.allocate(1);
            assertEquals(1, c.accepted().read(b));
            Socket s = sc.socket();
            assertEquals(-1, s.getSoLinger());
            assertTrue(s.getKeepAlive());
            assertFalse(s.getTcpNoDelay());
        }
    }
}
