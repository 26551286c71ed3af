package io.slipstream.shim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Classic {@link Socket}/{@link ServerSocket} against the JDK's own (its NioSocketImpl, on
 * kernel loopback) and on Slipstream's {@link ShimSocketImpl} (the impl the javaagent installs),
 * accelerated between two in-memory stacks and on the kernel fallback: the same assertions.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ClassicSocketDifferentialTest {

    static java.util.stream.Stream<Env> envs() {
        return Env.all();
    }

    static Socket socket(Env env) throws IOException {
        return env.provider() instanceof SlipstreamSelectorProvider shim ? new ClassicSocketTest.ShimSocket(shim)
                : new Socket();
    }

    static ServerSocket serverSocket(Env env) throws IOException {
        return env.provider() instanceof SlipstreamSelectorProvider shim ? new ClassicSocketTest.ShimServerSocket(shim)
                : new ServerSocket();
    }

    /** A ServerSocket listening on the side's TCP address, ephemeral port. */
    static ServerSocket listening(Env env) throws IOException {
        ServerSocket ss = serverSocket(env);
        ss.bind(new InetSocketAddress(env.tcpHost(), 0));
        return ss;
    }

    private static InetSocketAddress addressOf(Env env, ServerSocket ss) {
        return new InetSocketAddress(env.tcpHost(), ss.getLocalPort());
    }

    /** A listener, a client connected to it, and the end it accepted. */
    record Connection(ServerSocket server, Socket client, Socket peer) implements AutoCloseable {
        static Connection open(Env env) throws IOException {
            ServerSocket ss = listening(env);
            Socket client = socket(env);
            client.connect(addressOf(env, ss));
            return new Connection(ss, client, ss.accept());
        }

        @Override
        public void close() throws IOException {
            client.close();
            peer.close();
            server.close();
        }
    }

    /** What java.net reports for an unbound or closed socket. */
    private static InetAddress wildcard() {
        return new InetSocketAddress(0).getAddress();
    }

    @ParameterizedTest
    @MethodSource("envs")
    void aListeningServerSocketReportsTheAddressItIsBoundTo(Env env) throws Exception {
        ServerSocket ss = listening(env);
        try (ss; Socket client = socket(env)) {
            assertEquals(env.tcpHost(), ss.getInetAddress());
            assertEquals(addressOf(env, ss), ss.getLocalSocketAddress());
            // The common idiom: connect to what the listener reports.
            client.connect(new InetSocketAddress(ss.getInetAddress(), ss.getLocalPort()));
            try (Socket peer = ss.accept()) {
                assertEquals(client.getLocalPort(), peer.getPort());
            }
        }
        assertEquals(env.tcpHost(), ss.getInetAddress(), "still reported after close");
        try (ServerSocket any = serverSocket(env)) {
            any.bind(null);
            assertEquals(wildcard(), any.getInetAddress());
            assertEquals(new InetSocketAddress(wildcard(), any.getLocalPort()), any.getLocalSocketAddress());
        }
    }

    @ParameterizedTest
    @MethodSource("envs")
    void aClosedSocketReportsTheWildcardWithItsPort(Env env) throws Exception {
        try (Connection c = Connection.open(env)) {
            Socket client = c.client();
            int port = client.getLocalPort();
            InetAddress local = client.getLocalAddress();
            assertFalse(local.isAnyLocalAddress());
            assertEquals(new InetSocketAddress(local, port), client.getLocalSocketAddress());
            client.close();
            assertEquals(wildcard(), client.getLocalAddress());
            assertEquals(port, client.getLocalPort());
            assertEquals(new InetSocketAddress(wildcard(), port), client.getLocalSocketAddress());
        }
    }

    @ParameterizedTest
    @MethodSource("envs")
    void bindNullBindsAtOnceToAnEphemeralPortThatConnectKeeps(Env env) throws Exception {
        try (ServerSocket ss = listening(env); Socket client = socket(env)) {
            client.bind(null);
            assertTrue(client.isBound());
            int port = client.getLocalPort();
            assertTrue(port > 0, "bound at once, port " + port);
            assertEquals(wildcard(), client.getLocalAddress());
            client.connect(addressOf(env, ss));
            assertEquals(port, client.getLocalPort());
            try (Socket peer = ss.accept()) {
                assertEquals(port, peer.getPort());
            }
        }
    }

    @ParameterizedTest
    @MethodSource("envs")
    void availableCountsWhatWaitsAndThrowsOnceClosed(Env env) throws Exception {
        try (Connection c = Connection.open(env)) {
            InputStream in = c.client().getInputStream();
            assertEquals(0, in.available());
            c.peer().getOutputStream().write(new byte[] {1, 2, 3});
            assertEquals(1, in.read());
            assertEquals(2, in.available(), "one segment arrived; one byte of it read");
            in.close();
            assertTrue(c.client().isClosed(), "closing the stream closes the socket");
            assertThrows(IOException.class, in::available);
        }
        try (Connection c = Connection.open(env)) {
            InputStream in = c.client().getInputStream();
            c.client().close();
            assertThrows(IOException.class, in::available);
        }
    }
}
