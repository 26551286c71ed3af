package io.slipstream.interop;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.slipstream.stack.Stack;
import io.slipstream.stack.StackCounter;
import io.slipstream.testing.NetNs;
import java.util.List;

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

    /** Closes the stack (if any) after checking it caught no internal error, then that it returned every buffer. */
    public static void close(Stack stack) {
        if (stack != null) {
            assertEquals(0, stack.counters().get(StackCounter.INTERNAL_ERRORS), () -> "" + stack.firstInternalError());
            stack.close();
            assertEquals(List.of(), stack.nic().buffers().leaks());
        }
    }
}
