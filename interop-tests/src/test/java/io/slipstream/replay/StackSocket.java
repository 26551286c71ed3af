package io.slipstream.replay;

import io.slipstream.replay.AppScript.Setup;
import io.slipstream.replay.Conversation.Role;
import io.slipstream.stack.Stack;
import io.slipstream.tcp.TcpConnectOptions;
import io.slipstream.tcp.TcpConnection;
import io.slipstream.tcp.TcpException;
import io.slipstream.tcp.TcpListener;
import io.slipstream.testing.StackCalls;
import io.slipstream.udp.UdpSocket;
import java.nio.ByteBuffer;

/**
 * The application of a replay on a Slipstream stack: one TCP connection (connected, or accepted
 * from a listener) or one UDP socket, making the script's calls through the stack's own API, each
 * inside the stack as a socket call is. Writes the send buffer cannot take yet wait, in order.
 */
final class StackSocket {
    private static final int KEEPALIVE_PROBES = 9;

    private final Stack stack;
    private final int peerAddress;
    private final ByteBuffer readBuffer = ByteBuffer.allocate(1 << 16);
    private final PendingOutput pending = new PendingOutput();
    private TcpListener listener;
    private TcpConnection connection;
    private UdpSocket udp;
    private Setup setup;
    private TcpException lastError;

    StackSocket(Stack stack, int peerAddress) {
        this.stack = stack;
        this.peerAddress = peerAddress;
    }

    /**
     * Makes the call. A connection error it reports (the peer reset or refused the connection)
     * is the application's to see, as the kernel's saw ECONNRESET: the call ends there.
     */
    void call(AppScript script, AppScript.Step step, int peerPort, int livePort) throws Exception {
        StackCalls.inside(stack, () -> {
            try {
                take(script, step, peerPort, livePort);
            } catch (TcpException e) {
                lastError = e;
            }
            return null;
        });
    }

    /** The connection error the application saw last, if any. */
    TcpException lastError() {
        return lastError;
    }

    private void take(AppScript script, AppScript.Step step, int peerPort, int livePort) throws Exception {
        setup = script.setup();
        switch (step.call()) {
            case OPEN -> open(script, peerPort, livePort);
            case WRITE -> {
                pending.write(step.data());
                flush();
            }
            case SHUTDOWN -> {
                pending.shutdown();
                flush();
            }
            case CLOSE -> {
                pending.close();
                flush();
            }
            case ABORT -> {
                if (connection != null) {
                    connection.abort();
                }
            }
            case SEND_DATAGRAM -> udp.send(ByteBuffer.wrap(step.data()), peerAddress, peerPort);
            default -> throw new IllegalStateException("unknown call " + step.call());
        }
    }

    private void open(AppScript script, int peerPort, int livePort) throws Exception {
        Setup s = script.setup();
        TcpConnectOptions options = new TcpConnectOptions(s.receiveBufferBytes(), 0, s.noDelay(), s.keepAliveIdleMs() > 0);
        if (!script.tcp()) {
            udp = stack.udp().open();
            if (script.role() == Role.SERVER) {
                udp.bind(livePort);
            }
        } else if (script.role() == Role.CLIENT) {
            connection = stack.tcp().connect(peerAddress, peerPort, 0, options);
            configure(connection);
        } else if (s.listens()) {
            listener = stack.tcp().listen(livePort, 1, options);
        }
    }

    private void configure(TcpConnection c) {
        if (setup.keepAliveIdleMs() > 0) {
            c.keepAlive(true, setup.keepAliveIdleMs(), setup.keepAliveIntervalMs(), KEEPALIVE_PROBES);
        }
    }

    /** Accepts the connection once there is one, sends what waits, and, if the script reads now, reads. */
    int service(boolean reading) {
        return StackCalls.inside(stack, () -> {
            try {
                acceptIfReady();
                flush();
                return reading ? readAvailableInside() : 0;
            } catch (TcpException e) {
                lastError = e;
                return 0;
            }
        });
    }

    private void acceptIfReady() {
        if (connection == null && listener != null && listener.acceptable()) {
            connection = listener.accept();
            configure(connection);
        }
    }

    private int readAvailableInside() {
        acceptIfReady();
        flush();
        int total = 0;
        if (udp != null) {
            for (int n; (n = udp.receive(readBuffer.clear())) > 0; ) {
                total += n;
            }
            return total;
        }
        if (connection == null) {
            return 0;
        }
        for (int i = 0; i < 1000; i++) {
            int n = connection.receive(readBuffer.clear());
            if (n <= 0) {
                break;
            }
            total += n;
        }
        return total;
    }

    private void flush() {
        acceptIfReady();
        TcpConnection c = connection;
        if (c == null) {
            return;
        }
        try {
            pending.flush(new PendingOutput.Connection() {
                @Override
                public void write(ByteBuffer data) {
                    c.send(data);
                }

                @Override
                public void shutdownOutput() {
                    c.shutdownOutput();
                }

                @Override
                public void close() {
                    c.close();
                }
            });
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e); // the stack's calls throw none
        }
    }

    void close() {
        StackCalls.inside(stack, () -> {
            if (connection != null) {
                connection.close();
            }
            if (listener != null) {
                listener.close();
            }
            if (udp != null) {
                udp.close();
            }
            return null;
        });
    }
}
