package io.slipstream.nic;

/**
 * A NIC could not be opened or operated: the message says which device and why, and
 * {@link #kind()} says what sort of failure it is, so that callers (the shim's fallback) can
 * name it without reading the message.
 */
public class NicException extends RuntimeException {
    /** What sort of failure: each is a different thing for the user to fix. */
    public enum Kind {
        /** No driver of the configured name is on the class path. */
        NO_DRIVER,
        /** The process lacks a privilege the driver needs (root, CAP_NET_ADMIN, device access). */
        NOT_PERMITTED,
        /** Another process or descriptor holds the device (a TAP device already attached, a link's ends taken). */
        BUSY,
        /** The device, the interface or the kernel support it needs does not exist here. */
        NOT_FOUND,
        /** The settings describe no NIC that can exist (interface name, MTU, ring sizes). */
        INVALID_CONFIG,
        /** Anything else; the message says what. */
        FAILED
    }

    private final Kind kind;

    public NicException(String message) {
        this(Kind.FAILED, message);
    }

    public NicException(String message, Throwable cause) {
        this(Kind.FAILED, message, cause);
    }

    public NicException(Kind kind, String message) {
        super(message);
        this.kind = kind;
    }

    public NicException(Kind kind, String message, Throwable cause) {
        super(message, cause);
        this.kind = kind;
    }

    public Kind kind() {
        return kind;
    }
}
