package io.slipstream.tcp;

/**
 * A connection's send and receive rings and their sizes (SO_SNDBUF, SO_RCVBUF). The rings are
 * taken from the layer's {@link RingMemory} only once the connection can carry data (an active
 * open; a passive one when its handshake completes or its SYN brings data), so a half-open
 * connection, a SYN flood's, holds no ring memory; they go back when the connection is done.
 *
 * <p>Runs under the stack lock, as its connection.
 */
final class ConnectionBuffers {
    private final RingMemory memory;
    private int receiveBytes;
    /** How far the receive ring may grow: the window scale is chosen for it (RFC 7323 §2.3). */
    private int receiveMaxBytes;
    private int sendBytes;
    /** Null until {@link #take()} and after {@link #release()}. */
    ByteRing send;
    ByteRing receive;

    ConnectionBuffers(RingMemory memory, TcpConnectOptions options, TcpConfig config) {
        this.memory = memory;
        this.receiveBytes = receiveBytesFor(options, config);
        this.receiveMaxBytes = receiveMaxBytesFor(options, config);
        this.sendBytes = options.sendBuffer() > 0 ? options.sendBuffer() : config.sendBuffer();
    }

    /** The receive buffer a connection made with these options starts with. */
    static int receiveBytesFor(TcpConnectOptions options, TcpConfig config) {
        return options.receiveBuffer() > 0 ? options.receiveBuffer() : config.receiveBuffer();
    }

    /** How far its receive buffer may grow: auto-tuned up to rcvbuf.max unless the application chose a size. */
    static int receiveMaxBytesFor(TcpConnectOptions options, TcpConfig config) {
        return options.receiveBuffer() > 0 ? options.receiveBuffer()
                : Math.max(config.receiveBuffer(), config.receiveBufferMax());
    }

    /**
     * The receive ring grows to hold {@code wantedBytes} (to the next size class, within the
     * maximum), as Linux's tcp_rcv_space_adjust; its bytes move along. Returns whether it grew.
     */
    boolean growReceive(int wantedBytes) {
        int now = receive.capacity();
        if (wantedBytes <= now || now >= receiveMaxBytes) {
            return false;
        }
        int next = (int) Math.min(receiveMaxBytes, Math.max(2L * now, Integer.highestOneBit(wantedBytes - 1) * 2L));
        ByteRing bigger = memory.take(next);
        receive.moveTo(bigger);
        memory.give(receive);
        receive = bigger;
        return true;
    }

    /** Takes the rings unless held; returns whether it took them now. */
    boolean take() {
        if (send != null) {
            return false;
        }
        send = memory.take(sendBytes);
        receive = memory.take(receiveBytes);
        return true;
    }

    boolean held() {
        return send != null;
    }

    void release() {
        if (send != null) {
            memory.give(send);
            memory.give(receive);
            send = null;
            receive = null;
        }
    }

    /** The receive buffer now: the ring once held (auto-tuning grows it), else the size it will start at. */
    int receiveBytes() {
        return receive != null ? receive.capacity() : receiveBytes;
    }

    int sendBytes() {
        return sendBytes;
    }

    int receiveMaxBytes() {
        return receiveMaxBytes;
    }

    /** SO_RCVBUF: a size the application chose is not grown (as Linux locks it). */
    void receiveBytes(int bytes) {
        receiveBytes = checked(bytes);
        receiveMaxBytes = bytes;
    }

    void sendBytes(int bytes) {
        sendBytes = checked(bytes);
    }

    private static int checked(int bytes) {
        if (bytes < RingMemory.MIN_BLOCK_BYTES) {
            throw new IllegalArgumentException("buffer size must be at least " + RingMemory.MIN_BLOCK_BYTES
                    + " bytes, got " + bytes);
        }
        return bytes;
    }
}
