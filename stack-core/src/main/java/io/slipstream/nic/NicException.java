package io.slipstream.nic;

/** A NIC could not be opened or operated: the message says which device and why. */
public class NicException extends RuntimeException {
    public NicException(String message) {
        super(message);
    }

    public NicException(String message, Throwable cause) {
        super(message, cause);
    }
}
