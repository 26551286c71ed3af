package io.slipstream.shim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Classic {@link Socket}/{@link ServerSocket} on {@link ShimSocketImpl}, in this JVM without
 * installing the JVM-wide factories (the agent does that; see {@link AgentDropInTest}): the
 * sockets here are given the impl through the protected constructors.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ClassicSocketTest {
    private static final SlipstreamSelectorProvider PROVIDER = Env.slipstreamProvider();

    /** A Socket on Slipstream's impl. */
    static final class ShimSocket extends Socket {
        final ShimSocketImpl impl;

        ShimSocket() throws IOException {
            this(PROVIDER);
        }

        /** On {@code provider}'s stacks (the differential suite's other sides). */
        ShimSocket(SlipstreamSelectorProvider provider) throws IOException {
            this(new ShimSocketImpl(provider, false));
        }

        private ShimSocket(ShimSocketImpl impl) throws IOException {
            super(impl);
            this.impl = impl;
        }
    }

    /** A ServerSocket on Slipstream's impl that accepts into {@link ShimSocket}s of the same provider. */
    static final class ShimServerSocket extends ServerSocket {
        private final SlipstreamSelectorProvider provider;

        ShimServerSocket() throws IOException {
            this(PROVIDER);
        }

        ShimServerSocket(SlipstreamSelectorProvider provider) throws IOException {
            super(new ShimSocketImpl(provider, true));
            this.provider = provider;
        }

        @Override
        public ShimSocket accept() throws IOException {
            ShimSocket s = new ShimSocket(provider);
            implAccept(s);
            return s;
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"198.18.7.2", "127.0.0.1"})
    void echoThroughClassicSockets(String host) throws Exception {
        try (ShimServerSocket server = new ShimServerSocket()) {
            server.bind(new InetSocketAddress(host, 0));
            assertTrue(server.isBound());
            assertTrue(server.getLocalPort() > 0);
            try (ShimSocket client = new ShimSocket()) {
                client.setTcpNoDelay(true);
                client.connect(new InetSocketAddress(host, server.getLocalPort()), 5_000);
                assertTrue(client.getTcpNoDelay());
                assertEquals(host.startsWith("198.18."), client.impl.isAccelerated());
                try (ShimSocket peer = server.accept()) {
                    assertEquals(client.getLocalPort(), peer.getPort());
                    client.getOutputStream().write("classic".getBytes());
                    assertArrayEquals("classic".getBytes(), peer.getInputStream().readNBytes(7));
                    peer.getOutputStream().write(new byte[] {1, 2, 3});
                    peer.shutdownOutput();
                    assertArrayEquals(new byte[] {1, 2, 3}, client.getInputStream().readAllBytes());
                }
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"198.18.7.2", "127.0.0.1"})
    void timeoutsAndOptions(String host) throws Exception {
        try (ShimServerSocket server = new ShimServerSocket()) {
            server.setReuseAddress(true);
            server.bind(new InetSocketAddress(host, 0));
            server.setSoTimeout(100);
            assertThrows(SocketTimeoutException.class, server::accept);
            try (ShimSocket client = new ShimSocket()) {
                client.setKeepAlive(true);
                client.setSoLinger(true, 4);
                client.connect(new InetSocketAddress(host, server.getLocalPort()));
                assertTrue(client.getKeepAlive());
                assertEquals(4, client.getSoLinger());
                client.setSoLinger(false, 0);
                assertEquals(-1, client.getSoLinger());
                client.setSoTimeout(100);
                assertThrows(SocketTimeoutException.class, () -> client.getInputStream().read());
                assertFalse(client.isClosed());
                assertEquals(InetAddress.getByName(host), client.getInetAddress());
                server.setSoTimeout(0);
                server.accept().close();
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"198.18.7.2", "127.0.0.1"})
    void aThousandConnectionsOnVirtualThreads(String host) throws Exception {
        int connections = 1000;
        try (ShimServerSocket server = new ShimServerSocket();
                ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor()) {
            server.bind(new InetSocketAddress(host, 0), connections);
            executor.submit(() -> {
                for (int i = 0; i < connections; i++) {
                    ShimSocket s = server.accept();
                    executor.submit(() -> {
                        try (s) {
                            s.getOutputStream().write(s.getInputStream().readNBytes(4));
                        }
                        return null;
                    });
                }
                return null;
            });
            List<Future<Integer>> replies = new ArrayList<>();
            for (int i = 0; i < connections; i++) {
                int id = i;
                replies.add(executor.submit(() -> {
                    try (ShimSocket c = new ShimSocket()) {
                        c.connect(new InetSocketAddress(host, server.getLocalPort()));
                        c.getOutputStream().write(java.nio.ByteBuffer.allocate(4).putInt(id).array());
                        return java.nio.ByteBuffer.wrap(c.getInputStream().readNBytes(4)).getInt();
                    }
                }));
            }
            for (int i = 0; i < connections; i++) {
                assertEquals(i, replies.get(i).get(30, TimeUnit.SECONDS));
            }
        }
    }
}
