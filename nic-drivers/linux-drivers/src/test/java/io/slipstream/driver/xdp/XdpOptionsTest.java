package io.slipstream.driver.xdp;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.slipstream.config.ConfigException;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The slipstream.xdp.* settings: defaults, and a clear refusal of what cannot be meant. */
class XdpOptionsTest {

    private static XdpOptions of(Map<String, String> options) {
        return XdpOptions.from(XdpSandbox.config("eth9", options));
    }

    @Test
    void defaultsTryZeroCopyAndNativeModeOnEveryQueue() {
        XdpOptions o = of(Map.of());
        assertEquals(XskSocket.BindMode.AUTO, o.bindMode());
        assertTrue(o.allowNative());
        assertTrue(o.allowGeneric());
        assertArrayEquals(new int[] {0, 1, 2}, o.queues(3));
        assertEquals(16384, o.maxConnections());
        assertEquals(1024, o.maxListeners());
        assertEquals(XdpNamespace.OWN, o.namespace(), "the process's own network namespace");
    }

    @Test
    void theNamespaceIsANameIpNetnsKnowsOrAPath() {
        assertEquals(Path.of("/var/run/netns/blue"), of(Map.of("slipstream.xdp.namespace", "blue")).namespace().path());
        assertEquals(Path.of("/proc/42/ns/net"),
                of(Map.of("slipstream.xdp.namespace", " /proc/42/ns/net")).namespace().path());
    }

    @Test
    void modesAndQueuesAreChosenBySetting() {
        XdpOptions o = of(Map.of("slipstream.xdp.bind", "copy", "slipstream.xdp.attach", "generic",
                "slipstream.xdp.queues", "1, 3", "slipstream.xdp.connections", "100"));
        assertEquals(XskSocket.BindMode.COPY, o.bindMode());
        assertFalse(o.allowNative());
        assertTrue(o.allowGeneric());
        assertArrayEquals(new int[] {1, 3}, o.queues(4));
        assertEquals(100, o.maxConnections());
        assertFalse(of(Map.of("slipstream.xdp.attach", "native")).allowGeneric());
    }

    @Test
    void nonsenseIsRefusedNamingTheSetting() {
        assertMessage("slipstream.xdp.bind: expected auto or zerocopy or copy, got 'fast'",
                () -> of(Map.of("slipstream.xdp.bind", "fast")));
        assertMessage("slipstream.xdp.attach: expected auto or native or generic, got 'hw'",
                () -> of(Map.of("slipstream.xdp.attach", "hw")));
        assertMessage("slipstream.xdp.listeners: expected an integer in 1..1048576, got '0'",
                () -> of(Map.of("slipstream.xdp.listeners", "0")));
        assertMessage("slipstream.xdp.queues: queue 2 does not exist (the interface has 2 receive queue(s))",
                () -> of(Map.of("slipstream.xdp.queues", "0,2")).queues(2));
        assertMessage("slipstream.xdp.queues: expected all or a list of queue ids such as 0,1, got 'x'",
                () -> of(Map.of("slipstream.xdp.queues", "x")).queues(2));
        for (String notANamespace : new String[] {"..", "run/netns/blue"}) {
            assertMessage("slipstream.xdp.namespace: expected a name `ip netns list` shows or an absolute path such as"
                    + " /proc/PID/ns/net, got '" + notANamespace + "'",
                    () -> of(Map.of("slipstream.xdp.namespace", notANamespace)));
        }
    }

    private static void assertMessage(String expected, org.junit.jupiter.api.function.Executable e) {
        assertEquals(expected, assertThrows(ConfigException.class, e).getMessage());
    }
}
