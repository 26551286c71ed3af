package io.slipstream.tcp;

/**
 * Per-socket options fixed at connect or listen time (the buffer sizes decide the window
 * scale, which is exchanged in the SYN). 0 means "the layer's default".
 */
public record TcpConnectOptions(int receiveBuffer, int sendBuffer, boolean noDelay, boolean keepAlive) {
    public static final TcpConnectOptions DEFAULT = new TcpConnectOptions(0, 0, false, false);

    public TcpConnectOptions {
        if (receiveBuffer != 0 && receiveBuffer < 1024 || sendBuffer != 0 && sendBuffer < 1024) {
            throw new IllegalArgumentException("buffer sizes must be 0 (default) or at least 1024 bytes");
        }
    }

    public TcpConnectOptions withNoDelay(boolean on) {
        return new TcpConnectOptions(receiveBuffer, sendBuffer, on, keepAlive);
    }

    public TcpConnectOptions withBuffers(int receive, int send) {
        return new TcpConnectOptions(receive, send, noDelay, keepAlive);
    }
}
