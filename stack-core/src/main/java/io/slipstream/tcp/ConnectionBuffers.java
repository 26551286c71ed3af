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
    private int sendBytes;
    /** Null until {@link #take()} and after {@link #release()}. */
    ByteRing send;
    ByteRing receive;

    ConnectionBuffers(RingMemory memory, int receiveBytes, int sendBytes) {
        this.memory = memory;
        this.receiveBytes = receiveBytes;
        this.sendBytes = sendBytes;
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

    int receiveBytes() {
        return receiveBytes;
    }

    int sendBytes() {
        return sendBytes;
    }

    void receiveBytes(int bytes) {
        receiveBytes = checked(bytes);
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
