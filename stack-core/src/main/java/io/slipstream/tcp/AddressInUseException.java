package io.slipstream.tcp;

/**
 * A listen or connect found its local port taken: by another socket of the stack (a listener
 * on the port, a connection on the same 4-tuple), or outside the stack, where the NIC holds the
 * stack's ports (another program's kernel socket on the address the stack shares with the
 * kernel). The shim reports it as the JDK reports EADDRINUSE, {@code java.net.BindException}
 * "Address already in use"; the message here says which port and who has it.
 */
public final class AddressInUseException extends IllegalStateException {
    public AddressInUseException(String message) {
        super(message);
    }
}
