package io.slipstream.nic;

/**
 * Which flows a NIC delivers to the stack, and which ports the stack holds where else they could
 * be handed out. A NIC that shares its port and address with the kernel (AF_XDP) delivers only
 * what the stack says it owns: a listener or bound socket, (protocol, local address, local port),
 * and an outgoing connection, its full 4-tuple. It also holds each such port in the kernel, so
 * that the kernel never gives it to another program. The stack's TCP and UDP layers hold and
 * steer at listen/bind/connect and remove and release at close. A NIC that gives the stack every
 * frame of its link (memory, TAP) needs none of this: {@link #ALL}.
 *
 * <p>Called under the stack lock, on the control path (never per packet); a NIC may make a
 * system call here.
 */
public interface FlowSteering {
    int PROTO_TCP = 6;
    int PROTO_UDP = 17;
    /** What {@link #hold} answers when the port is taken outside the stack. */
    int IN_USE = -1;

    /** Every frame of the link reaches the stack already, and no one else hands out its ports. */
    FlowSteering ALL = new FlowSteering() {
        @Override
        public int hold(int protocol, int localAddress, int localPort) {
            return localPort;
        }

        @Override
        public void release(int protocol, int localAddress, int localPort) {}

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

    /**
     * Holds (protocol, local address, local port) outside the stack, so that nothing there is
     * given the port while the stack uses it; port 0 asks the NIC to choose a free one. Holds of
     * one port count: each successful hold needs one {@link #release}.
     *
     * @return the port now held: {@code localPort}, or the NIC's choice for 0; a NIC that holds
     *     nothing returns {@code localPort} unchanged, so 0 leaves the choice to the stack;
     *     {@link #IN_USE} when the port (or, for 0, every port) is taken outside the stack
     * @throws NicException when holding fails for another reason (the message says which)
     */
    int hold(int protocol, int localAddress, int localPort);

    /** Gives back one hold of the port; the last one frees it outside the stack. */
    void release(int protocol, int localAddress, int localPort);

    /** Delivers (protocol, local address, local port) to the stack: a listener or a bound socket. */
    void addListener(int protocol, int localAddress, int localPort);

    /** Stops delivering it; false if it was not steered. */
    boolean removeListener(int protocol, int localAddress, int localPort);

    /** Delivers one connection, by its full 4-tuple, to the stack. */
    void addConnection(int protocol, int localAddress, int localPort, int remoteAddress, int remotePort);

    /** Stops delivering it; false if it was not steered. */
    boolean removeConnection(int protocol, int localAddress, int localPort, int remoteAddress, int remotePort);
}
