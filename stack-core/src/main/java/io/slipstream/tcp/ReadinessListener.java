package io.slipstream.tcp;

/**
 * Told when a socket's readiness (readable, writable, connected, acceptable, error) may have
 * changed. Called under the stack lock from the thread driving the stack; it must not call
 * back into the stack's receive path and should only record or signal (a selector wakeup).
 * The caller allocates nothing per call.
 */
@FunctionalInterface
public interface ReadinessListener {
    void readinessChanged(TcpSocket socket);
}
