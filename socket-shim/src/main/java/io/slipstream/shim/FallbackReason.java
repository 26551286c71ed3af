package io.slipstream.shim;

/** Why a socket runs on the Linux kernel instead of a Slipstream stack. */
public enum FallbackReason {
    /** No NIC is configured (no {@code slipstream.driver}), or the configuration was rejected. */
    NO_NIC("no Slipstream NIC is configured"),
    /** The configured NIC could not be opened. */
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
