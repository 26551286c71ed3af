package io.slipstream.shim;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.ref.Reference;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.channels.DatagramChannel;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * What the application drops without closing: the JDK closes a DatagramChannel, and a classic
 * Socket or ServerSocket, once the garbage collector finds it unreachable (a Cleaner), and so
 * must Slipstream, on the kernel and on a stack. A dropped socket is seen closed by its port
 * (free for a new socket again) or by its peer (end of stream). The JDK's SocketChannel,
 * ServerSocketChannel and Pipe have no cleaner, so neither have Slipstream's.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class UnreferencedChannelDifferentialTest {

    static java.util.stream.Stream<Env> envs() {
        return Env.all();
    }

    @FunctionalInterface
    private interface Check {
        boolean holds() throws IOException;
    }

    /** Collects garbage and lets cleaners run until {@code check} holds: at most 200 rounds of 25 ms. */
    private static boolean afterGc(Check check) throws Exception {
        for (int i = 0; i < 200; i++) {
            System.gc();
            if (check.holds()) {
                return true;
            }
            Thread.sleep(25);
        }
        return false;
    }

    private static boolean datagramBinds(Env env, InetSocketAddress address) throws IOException {
        try (DatagramChannel dc = env.provider().openDatagramChannel()) {
            dc.bind(address);
            return true;
        } catch (BindException e) {
            return false;
        }
    }

    private static boolean listenerBinds(Env env, InetSocketAddress address) throws IOException {
        try (ServerSocket ss = ClassicSocketDifferentialTest.serverSocket(env)) {
            ss.bind(address);
            return true;
        } catch (BindException e) {
            return false;
        }
    }

    /**
     * Checks that {@code owner}, still open, holds {@code address} ({@code held}: no other socket
     * can bind it), then returns the address; the caller keeps no reference to the owner.
     */
    private static InetSocketAddress lastUse(Object owner, InetSocketAddress address, Check held) throws IOException {
        assertTrue(held.holds(), "the port is held while " + owner + " is open");
        Reference.reachabilityFence(owner);
        return address;
    }

    private static InetSocketAddress droppedDatagramChannel(Env env) throws IOException {
        DatagramChannel dc = env.provider().openDatagramChannel().bind(env.udpServerAny());
        InetSocketAddress bound = (InetSocketAddress) dc.getLocalAddress();
        return lastUse(dc, bound, () -> !datagramBinds(env, bound));
    }

    @ParameterizedTest
    @MethodSource("envs")
    void aDroppedDatagramChannelIsClosed(Env env) throws Exception {
        InetSocketAddress bound = droppedDatagramChannel(env);
        assertTrue(afterGc(() -> datagramBinds(env, bound)), "the dropped channel's port is free again");
    }

    /** The same, after the channel has sent (on a stack: after it moved there from its kernel socket). */
    @ParameterizedTest
    @MethodSource("envs")
    void aDroppedDatagramChannelThatSentIsClosed(Env env) throws Exception {
        try (DatagramChannel server = env.provider().openDatagramChannel().bind(env.udpServerAny())) {
            InetSocketAddress bound = droppedSender(env, server);
            assertTrue(afterGc(() -> datagramBinds(env, bound)), "the dropped channel's port is free again");
        }
    }

    private static InetSocketAddress droppedSender(Env env, DatagramChannel server) throws IOException {
        DatagramChannel dc = env.provider().openDatagramChannel();
        dc.send(java.nio.ByteBuffer.wrap(new byte[] {1}), server.getLocalAddress());
        InetSocketAddress local = (InetSocketAddress) dc.getLocalAddress();
        server.receive(java.nio.ByteBuffer.allocate(4));
        InetSocketAddress bound = new InetSocketAddress(env.udpClientHost(), local.getPort());
        return lastUse(dc, bound, () -> !datagramBinds(env, bound));
    }

    private static InetSocketAddress droppedServerSocket(Env env) throws IOException {
        ServerSocket ss = ClassicSocketDifferentialTest.listening(env);
        InetSocketAddress bound = new InetSocketAddress(env.tcpHost(), ss.getLocalPort());
        return lastUse(ss, bound, () -> !listenerBinds(env, bound));
    }

    @ParameterizedTest
    @MethodSource("envs")
    void aDroppedServerSocketIsClosed(Env env) throws Exception {
        InetSocketAddress bound = droppedServerSocket(env);
        assertTrue(afterGc(() -> listenerBinds(env, bound)), "the dropped ServerSocket's port is free again");
    }

    private static void connectAndDrop(Env env, ServerSocket ss) throws IOException {
        Socket s = ClassicSocketDifferentialTest.socket(env);
        s.connect(new InetSocketAddress(env.tcpHost(), ss.getLocalPort()));
    }

    @ParameterizedTest
    @MethodSource("envs")
    void aDroppedSocketIsClosedAndItsPeerSeesTheEnd(Env env) throws Exception {
        try (ServerSocket ss = ClassicSocketDifferentialTest.listening(env)) {
            connectAndDrop(env, ss);
            try (Socket peer = ss.accept()) {
                peer.setSoTimeout(25);
                assertTrue(afterGc(() -> {
                    try {
                        return peer.getInputStream().read() == -1;
                    } catch (SocketTimeoutException e) {
                        return false;
                    }
                }), "the peer reads the end of the stream");
            }
        }
    }
}
