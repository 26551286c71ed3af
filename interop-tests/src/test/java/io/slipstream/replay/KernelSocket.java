package io.slipstream.replay;

import io.slipstream.linux.NetNamespace;
import io.slipstream.replay.AppScript.Setup;
import io.slipstream.replay.Conversation.Role;
import io.slipstream.wire.Ipv4Address;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import jdk.net.ExtendedSocketOptions;

/**
 * The application of a replay on the Linux kernel: the JDK's own non-blocking channels, created
 * inside the kernel's network namespace ({@link NetNamespace#call}) and used from the test's
 * thread. The same script calls as {@link StackSocket} makes on a Slipstream stack; an error the
 * kernel reports (ECONNRESET, ECONNREFUSED) ends the call, as the kernel's application saw it.
 * The receive buffer is left at the kernel's default, as the recordings had it: the script's
 * {@code receiveBufferBytes} sizes a Slipstream window, and the kernel's window is not its buffer.
 */
final class KernelSocket implements AutoCloseable {
    private final Path namespace;
    private final int kernelAddress;
    private final int peerAddress;
    private final ByteBuffer readBuffer = ByteBuffer.allocate(1 << 16);
    private final PendingOutput pending = new PendingOutput();
    private ServerSocketChannel listener;
    private SocketChannel connection;
    private DatagramChannel udp;
    private boolean inputEnded;
    private IOException lastError;

    KernelSocket(Path namespace, int kernelAddress, int peerAddress) {
        this.namespace = namespace;
        this.kernelAddress = kernelAddress;
        this.peerAddress = peerAddress;
    }

    void call(AppScript script, AppScript.Step step, int peerPort, int livePort) throws IOException {
        try {
            switch (step.call()) {
                case OPEN -> open(script, peerPort, livePort);
                case WRITE -> pending.write(step.data());
                case SHUTDOWN -> pending.shutdown();
                case CLOSE -> pending.close();
                case ABORT -> {
                    if (connection != null) {
                        connection.setOption(StandardSocketOptions.SO_LINGER, 0);
                        connection.close();
                    }
                }
                case SEND_DATAGRAM -> udp.send(ByteBuffer.wrap(step.data()), address(peerAddress, peerPort));
                default -> throw new IllegalStateException("unknown call " + step.call());
            }
            service(false);
        } catch (IOException e) {
            lastError = e;
        }
    }

    private static InetSocketAddress address(int ip, int port) {
        return new InetSocketAddress(Ipv4Address.format(ip), port);
    }

    private void open(AppScript script, int peerPort, int livePort) throws IOException {
        Setup s = script.setup();
        if (!script.tcp()) {
            udp = NetNamespace.call(namespace, DatagramChannel::open);
            udp.configureBlocking(false);
            udp.bind(address(kernelAddress, script.role() == Role.SERVER ? livePort : 0));
        } else if (script.role() == Role.CLIENT) {
            connection = NetNamespace.call(namespace, SocketChannel::open);
            configure(connection, s);
            connection.configureBlocking(false);
            connection.connect(address(peerAddress, peerPort));
        } else if (s.listens()) {
            listener = NetNamespace.call(namespace, ServerSocketChannel::open);
            listener.configureBlocking(false);
            listener.bind(address(kernelAddress, livePort), 1);
        }
    }

    private static void configure(SocketChannel c, Setup s) throws IOException {
        if (s.noDelay()) {
            c.setOption(StandardSocketOptions.TCP_NODELAY, true);
        }
        if (s.keepAliveIdleMs() > 0) {
            c.setOption(StandardSocketOptions.SO_KEEPALIVE, true);
            c.setOption(ExtendedSocketOptions.TCP_KEEPIDLE, (int) Math.max(1, Math.round(s.keepAliveIdleMs() / 1000.0)));
            c.setOption(ExtendedSocketOptions.TCP_KEEPINTERVAL,
                    (int) Math.max(1, Math.round(s.keepAliveIntervalMs() / 1000.0)));
        }
    }

    /** Completes the connection or accepts it, sends what waits, and when {@code reading}, reads. */
    int service(boolean reading) {
        try {
            if (connection == null && listener != null) {
                connection = listener.accept();
                if (connection != null) {
                    connection.configureBlocking(false);
                }
            }
            if (udp != null) {
                int total = 0;
                while (reading && udp.receive(readBuffer.clear()) != null) {
                    total += readBuffer.position();
                }
                return total;
            }
            if (connection == null || !connection.isOpen()) {
                return 0;
            }
            if (connection.isConnectionPending() && !connection.finishConnect()) {
                return 0;
            }
            flush();
            int total = 0;
            while (reading && !inputEnded && connection.isOpen()) {
                int n = connection.read(readBuffer.clear());
                if (n < 0) {
                    inputEnded = true;
                }
                if (n <= 0) {
                    break;
                }
                total += n;
            }
            return total;
        } catch (IOException e) {
            lastError = e;
            return 0;
        }
    }

    private void flush() throws IOException {
        SocketChannel c = connection;
        pending.flush(new PendingOutput.Connection() {
            @Override
            public void write(ByteBuffer data) throws IOException {
                c.write(data);
            }

            @Override
            public void shutdownOutput() throws IOException {
                c.shutdownOutput();
            }

            @Override
            public void close() throws IOException {
                c.close();
            }
        });
    }

    IOException lastError() {
        return lastError;
    }

    @Override
    public void close() throws IOException {
        for (AutoCloseable c : new AutoCloseable[] {connection, listener, udp}) {
            try {
                if (c != null) {
                    c.close();
                }
            } catch (Exception e) {
                lastError = new IOException(e);
            }
        }
    }
}
