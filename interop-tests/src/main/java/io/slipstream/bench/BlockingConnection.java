package io.slipstream.bench;

import io.slipstream.stack.Stack;
import io.slipstream.stack.WaitCondition;
import io.slipstream.stack.WaitQueue;
import io.slipstream.tcp.TcpConnectOptions;
import io.slipstream.tcp.TcpConnection;
import io.slipstream.tcp.TcpLayer;
import io.slipstream.tcp.TcpListener;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;

/**
 * A blocking TCP socket on the stack runtime, the way the java.nio shim drives one: every
 * operation runs between {@link Stack#enter()} and {@link Stack#exit()}, and waits with
 * {@link Stack#await} on the socket's own wait queue, which the connection's readiness
 * listener wakes. Conditions are made once per socket, so waiting allocates nothing.
 */
public final class BlockingConnection {
    private final Stack stack;
    private final TcpConnection connection;
    private final WaitQueue queue;
    private final WaitCondition readable;
    private final WaitCondition writable;
    private final WaitCondition connected;

    private BlockingConnection(Stack stack, TcpConnection connection) {
        this.stack = stack;
        this.connection = connection;
        this.queue = stack.newWaitQueue();
        this.readable = connection::readable;
        this.writable = connection::writable;
        this.connected = () -> connection.connected() || connection.pendingError() != null
                || connection.state() == io.slipstream.tcp.TcpState.CLOSED;
        connection.readinessListener(s -> queue.wakeAll());
    }

    public static BlockingConnection connect(Stack stack, TcpLayer tcp, int address, int port,
                                             TcpConnectOptions options) throws IOException {
        return connect(stack, tcp, address, port, 0, options);
    }

    /** Connects from {@code localPort} (0: an ephemeral port). */
    public static BlockingConnection connect(Stack stack, TcpLayer tcp, int address, int port, int localPort,
                                             TcpConnectOptions options) throws IOException {
        BlockingConnection c;
        stack.enter();
        try {
            c = new BlockingConnection(stack, tcp.connect(address, port, localPort, options));
        } finally {
            stack.exit();
        }
        c.await(c.connected);
        if (!c.connection.connected()) {
            throw new IOException("connect failed: " + c.connection.pendingError());
        }
        return c;
    }

    /** Blocks until the listener has a connection and accepts it. */
    public static BlockingConnection accept(Stack stack, TcpListener listener, WaitQueue listenerQueue)
            throws IOException {
        WaitCondition acceptable = listener::acceptable;
        for (;;) {
            stack.enter();
            try {
                TcpConnection c = listener.accept();
                if (c != null) {
                    return new BlockingConnection(stack, c);
                }
            } finally {
                stack.exit();
            }
            await(stack, listenerQueue, acceptable);
        }
    }

    /** Listens on {@code port}; its readiness wakes the returned queue (pass it to {@link #accept}). */
    public static WaitQueue listen(Stack stack, TcpLayer tcp, int port, int backlog, TcpConnectOptions options,
                                   TcpListener[] out) {
        WaitQueue q = stack.newWaitQueue();
        stack.enter();
        try {
            TcpListener l = tcp.listen(port, backlog, options);
            l.readinessListener(s -> q.wakeAll());
            out[0] = l;
        } finally {
            stack.exit();
        }
        return q;
    }

    public TcpConnection connection() {
        return connection;
    }

    /** Reads at least one byte; -1 at end of stream. */
    public int read(ByteBuffer dst) throws IOException {
        for (;;) {
            int n;
            stack.enter();
            try {
                n = connection.receive(dst);
            } finally {
                stack.exit();
            }
            if (n != 0) {
                return n;
            }
            failIfBroken();
            await(readable);
        }
    }

    /** Reads until {@code dst} is full; false if the stream ended first. */
    public boolean readFully(ByteBuffer dst) throws IOException {
        while (dst.hasRemaining()) {
            if (read(dst) < 0) {
                return false;
            }
        }
        return true;
    }

    /** Writes all of {@code src}. */
    public void write(ByteBuffer src) throws IOException {
        for (;;) {
            stack.enter();
            try {
                connection.send(src);
            } finally {
                stack.exit();
            }
            if (!src.hasRemaining()) {
                return;
            }
            failIfBroken();
            await(writable);
        }
    }

    public void close() {
        stack.enter();
        try {
            connection.close();
        } finally {
            stack.exit();
        }
    }

    private void failIfBroken() throws IOException {
        if (connection.pendingError() != null) {
            throw new IOException("connection failed: " + connection.pendingError());
        }
    }

    private void await(WaitCondition condition) throws IOException {
        await(stack, queue, condition);
    }

    private static void await(Stack stack, WaitQueue queue, WaitCondition condition) throws IOException {
        int r = stack.await(queue, condition, -1);
        if (r == Stack.INTERRUPTED) {
            throw new InterruptedIOException("interrupted while blocked");
        }
        if (r == Stack.CLOSED) {
            throw new IOException("stack closed");
        }
    }
}
