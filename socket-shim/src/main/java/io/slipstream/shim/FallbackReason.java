package io.slipstream.shim;

/** Why a socket runs on the Linux kernel instead of a Slipstream stack. */
public enum FallbackReason {
    /** No NIC is configured (no {@code slipstream.driver}), or the configuration was rejected. */
    NO_NIC("no Slipstream NIC is configured"),
    /** The configured driver is not on the class path. */
    NIC_DRIVER_MISSING("the configured NIC driver is not on the class path"),
    /** The process may not open the NIC (root or CAP_NET_ADMIN needed). */
    NIC_NOT_PERMITTED("no permission to open the Slipstream NIC"),
    /** Another process (or another stack of this one) holds the NIC: a TAP device already attached. */
    NIC_BUSY("the Slipstream NIC is held by another process"),
    /** The interface or the kernel support the driver needs does not exist. */
    NIC_NOT_FOUND("the Slipstream NIC or its kernel support does not exist"),
    /** The NIC settings are wrong (interface name, MTU, ring sizes, a setting out of range). */
    NIC_MISCONFIGURED("the Slipstream NIC settings are invalid"),
    /** The configured NIC could not be opened for another reason (the log line says which). */
    NIC_UNAVAILABLE("the Slipstream NIC could not be opened"),
    /** A loopback address: only the kernel has a loopback interface. */
    LOOPBACK("loopback address"),
    /** The address is not in the subnet of any Slipstream interface. */
    NOT_ROUTED("address not routed through a Slipstream interface"),
    /** Bound to the wildcard address: it must receive on every interface, the kernel's included. */
    WILDCARD_BIND("bound to the wildcard address"),
    /** An IPv6 or UNIX-domain address: the stacks speak IPv4 only. */
    UNSUPPORTED_FAMILY("protocol family not supported by Slipstream"),
    /** An option set before the decision that Slipstream cannot honour. */
    UNSUPPORTED_OPTION("socket option not supported by Slipstream"),
    /** Multicast membership or multicast options. */
    MULTICAST("multicast"),
    /** A socket inherited from the parent process (inetd, socket activation): the kernel's already. */
    INHERITED("socket inherited from the parent process"),
    /** A classic Socket whose connection the default ProxySelector sends through a SOCKS or HTTP proxy. */
    PROXY("connection through a proxy");

    private final String text;

    FallbackReason(String text) {
        this.text = text;
    }

    public String text() {
        return text;
    }
}
