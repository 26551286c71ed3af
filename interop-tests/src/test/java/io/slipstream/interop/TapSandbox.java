package io.slipstream.interop;


import io.slipstream.testing.NetNs;

/** What the in-process TAP tests share: the kernel's side of the device in a sandbox, and a clean close. */
public final class TapSandbox {
    private TapSandbox() {}

    /**
     * Moves the kernel's side of {@code device}, which a stack created in this namespace, into
     * {@code ns}, gives it {@code kernelCidr} and brings it up (IPv6 off, so nothing but the
     * test's own traffic crosses it).
     */
    public static void kernelSideIn(NetNs ns, String device, String kernelCidr) {
        NetNs.run("ip", "link", "set", device, "netns", ns.name()).orThrow();
        ns.exec("sysctl", "-q", "-w", "net.ipv6.conf.all.disable_ipv6=1").orThrow();
        ns.exec("ip", "addr", "add", kernelCidr, "dev", device).orThrow();
        ns.exec("ip", "link", "set", device, "up").orThrow();
    }
}
