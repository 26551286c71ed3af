package io.slipstream.shim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.net.StandardSocketOptions;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.channels.UnsupportedAddressTypeException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** UNIX-domain stream channels from both providers (Slipstream's run on the kernel: local IPC). */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class UnixDomainDifferentialTest {
    @TempDir
    Path dir;

    static java.util.stream.Stream<Env> envs() {
        return Env.both();
    }

    @ParameterizedTest
    @MethodSource("envs")
    void connectAcceptEchoAndAddresses(Env env) throws Exception {
        UnixDomainSocketAddress path = UnixDomainSocketAddress.of(dir.resolve(env.name() + ".sock"));
        try (ServerSocketChannel server = env.provider().openServerSocketChannel(StandardProtocolFamily.UNIX).bind(path);
                SocketChannel client = env.provider().openSocketChannel(StandardProtocolFamily.UNIX)) {
            assertEquals(path, server.getLocalAddress());
            assertTrue(Files.exists(path.getPath()));
            assertTrue(client.connect(path));
            assertEquals(path, client.getRemoteAddress());
            try (SocketChannel accepted = server.accept()) {
                assertInstanceOf(UnixDomainSocketAddress.class, accepted.getRemoteAddress());
                client.write(ByteBuffer.wrap("over unix".getBytes()));
                ByteBuffer got = ByteBuffer.allocate(9);
                while (got.hasRemaining()) {
                    accepted.read(got);
                }
                assertArrayEquals("over unix".getBytes(), got.array());
                client.shutdownOutput();
                assertEquals(-1, accepted.read(ByteBuffer.allocate(1)));
            }
        }
    }

    @ParameterizedTest
    @MethodSource("envs")
    void bindingToNullPicksANameAndSelectorsWork(Env env) throws Exception {
        try (ServerSocketChannel server = env.provider().openServerSocketChannel(StandardProtocolFamily.UNIX).bind(null);
                Selector sel = env.provider().openSelector();
                SocketChannel client = env.provider().openSocketChannel(StandardProtocolFamily.UNIX)) {
            UnixDomainSocketAddress bound = (UnixDomainSocketAddress) server.getLocalAddress();
            assertTrue(Files.exists(bound.getPath()), bound.toString());
            server.configureBlocking(false);
            server.register(sel, SelectionKey.OP_ACCEPT);
            client.connect(bound);
            assertEquals(1, sel.select(5_000));
            server.accept().close();
            Files.deleteIfExists(bound.getPath());
        }
    }

    @ParameterizedTest
    @MethodSource("envs")
    void optionsAndMisuse(Env env) throws Exception {
        try (SocketChannel sc = env.provider().openSocketChannel(StandardProtocolFamily.UNIX);
                ServerSocketChannel ssc = env.provider().openServerSocketChannel(StandardProtocolFamily.UNIX)) {
            sc.setOption(StandardSocketOptions.SO_SNDBUF, 32_768);
            assertTrue(sc.getOption(StandardSocketOptions.SO_SNDBUF) >= 32_768);
            sc.setOption(StandardSocketOptions.SO_LINGER, 3);
            assertEquals(3, sc.getOption(StandardSocketOptions.SO_LINGER));
            assertThrows(UnsupportedOperationException.class, () -> sc.setOption(StandardSocketOptions.TCP_NODELAY, true));
            assertThrows(UnsupportedOperationException.class, sc::socket);
            assertThrows(UnsupportedOperationException.class, ssc::socket);
            assertThrows(UnsupportedAddressTypeException.class, () -> sc.connect(new InetSocketAddress("127.0.0.1", 9)));
            assertThrows(UnsupportedAddressTypeException.class, () -> ssc.bind(new InetSocketAddress("127.0.0.1", 0)));
            assertThrows(UnsupportedOperationException.class,
                    () -> env.provider().openDatagramChannel(StandardProtocolFamily.UNIX));
        }
    }
}
