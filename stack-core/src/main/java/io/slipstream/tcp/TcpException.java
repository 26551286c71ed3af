package io.slipstream.tcp;

/** An operation on a connection that failed (refused, reset, timed out, unreachable). */
public final class TcpException extends RuntimeException {
    private final TcpError error;

    public TcpException(TcpError error, String message) {
        super(message);
        this.error = error;
    }

    public TcpError error() {
        return error;
    }
}
