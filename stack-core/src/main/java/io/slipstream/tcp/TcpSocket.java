package io.slipstream.tcp;

/** What connections and listeners share: readiness and a listener for its changes. */
public sealed interface TcpSocket permits TcpConnection, TcpListener {
    int localPort();

    TcpState state();

    /** Sets (or clears, with null) the readiness listener. */
    void readinessListener(ReadinessListener listener);
}
