package io.slipstream.tcp;

import java.util.ArrayDeque;

/**
 * A listening socket (RFC 9293 LISTEN): half-open connections up to the listen backlog (or
 * {@code slipstream.tcp.syn.backlog} if larger), then SYN cookies; established ones wait in an
 * accept queue bounded by the listen backlog. As Linux does, the half-open limit follows the
 * backlog, so cookies answer a flood rather than a burst of real clients.
 */
public final class TcpListener implements TcpSocket {
    private final TcpLayer layer;
    private final int localPort;
    private final int backlog;
    final TcpConnectOptions options;
    private final ArrayDeque<TcpConnection> acceptQueue = new ArrayDeque<>();
    int halfOpen;
    /** When this listener last answered a SYN with a cookie, on the layer's clock; guarded by the stack lock. */
    private long cookieSentNanos;
    private boolean cookieSent;
    /** Holds its port outside the stack ({@code FlowSteering.hold}), unless its caller holds it. */
    boolean holdsPort;
    private boolean closed;
    private ReadinessListener readinessListener;

    TcpListener(TcpLayer layer, int localPort, int backlog, TcpConnectOptions options) {
        this.layer = layer;
        this.localPort = localPort;
        this.backlog = backlog;
        this.options = options;
    }

    @Override
    public int localPort() {
        return localPort;
    }

    @Override
    public TcpState state() {
        return closed ? TcpState.CLOSED : TcpState.LISTEN;
    }

    public int backlog() {
        return backlog;
    }

    @Override
    public void readinessListener(ReadinessListener listener) {
        this.readinessListener = listener;
    }

    /** Whether {@link #accept} would return a connection. */
    public boolean acceptable() {
        return !acceptQueue.isEmpty();
    }

    /** The next established connection, or null. */
    public TcpConnection accept() {
        assert layer.lockHeld() : "stack lock not held";
        TcpConnection c = acceptQueue.poll();
        if (c != null) {
            c.parent = null;
            layer.counters().increment(TcpCounter.CONNECTIONS_ACCEPTED);
        }
        return c;
    }

    boolean acceptQueueFull() {
        return acceptQueue.size() >= backlog;
    }

    boolean synQueueFull() {
        return halfOpen >= Math.max(backlog, layer.config().synBacklog());
    }

    void cookieSent(long nowNanos) {
        cookieSent = true;
        cookieSentNanos = nowNanos;
    }

    /** Whether a cookie this listener sent may still be valid: an ACK that fails the check may be a lost cookie's. */
    boolean cookiesOutstanding(long nowNanos, long validityNanos) {
        return cookieSent && nowNanos - cookieSentNanos < validityNanos;
    }

    void established(TcpConnection c) {
        uncount(c);
        acceptQueue.add(c);
        if (readinessListener != null) {
            readinessListener.readinessChanged(this);
        }
    }

    void addEstablished(TcpConnection c) {
        acceptQueue.add(c);
        if (readinessListener != null) {
            readinessListener.readinessChanged(this);
        }
    }

    /** A connection it created closed before being accepted. */
    void forget(TcpConnection c) {
        acceptQueue.remove(c);
        uncount(c);
    }

    private void uncount(TcpConnection c) {
        if (c.halfOpen) {
            c.halfOpen = false;
            halfOpen--;
        }
    }

    /** Stops listening: queued and half-open connections are reset. */
    public void close() {
        assert layer.lockHeld() : "stack lock not held";
        if (closed) {
            return;
        }
        closed = true;
        layer.removeListener(this);
        TcpConnection c;
        while ((c = acceptQueue.poll()) != null) {
            c.parent = null;
            c.abort();
        }
        layer.abortHalfOpen(this);
    }

    boolean isClosed() {
        return closed;
    }
}
