package io.slipstream.nic;

/**
 * Which flows a NIC delivers to the stack. A NIC that shares its port with the kernel (AF_XDP)
 * delivers only what the stack says it owns: a listener or bound socket, (protocol, local
 * address, local port), and an outgoing connection, its full 4-tuple. The stack's TCP and UDP
 * layers say so at listen/bind/connect and take it back at close. A NIC that gives the stack
 * every frame of its link (memory, TAP) needs none of this: {@link #ALL}.
 *
 * <p>Called under the stack lock, on the control path (never per packet); a NIC may make a
 * system call here.
 */
public interface FlowSteering {
    int PROTO_TCP = 6;
    int PROTO_UDP = 17;

    /** Every frame of the link reaches the stack already: nothing to steer. */
    FlowSteering ALL = new FlowSteering() {
        @Override
        public void addListener(int protocol, int localAddress, int localPort) {}

        @Override
        public boolean removeListener(int protocol, int localAddress, int localPort) {
            return false;
        }

        @Override
        public void addConnection(int protocol, int localAddress, int localPort, int remoteAddress, int remotePort) {}

        @Override
        public boolean removeConnection(int protocol, int localAddress, int localPort, int remoteAddress,
                                        int remotePort) {
            return false;
        }
    };

    /** Delivers (protocol, local address, local port) to the stack: a listener or a bound socket. */
    void addListener(int protocol, int localAddress, int localPort);

    /** Stops delivering it; false if it was not steered. */
    boolean removeListener(int protocol, int localAddress, int localPort);

    /** Delivers one connection, by its full 4-tuple, to the stack. */
    void addConnection(int protocol, int localAddress, int localPort, int remoteAddress, int remotePort);

    /** Stops delivering it; false if it was not steered. */
    boolean removeConnection(int protocol, int localAddress, int localPort, int remoteAddress, int remotePort);
}
