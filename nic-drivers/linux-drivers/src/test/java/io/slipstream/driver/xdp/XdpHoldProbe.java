package io.slipstream.driver.xdp;

import io.slipstream.nic.NicDriver;
import io.slipstream.nic.VirtualInterface;
import io.slipstream.time.Clock;
import java.util.Map;

/**
 * Run in a child JVM by {@link XdpLifecycleTest}: opens the XDP driver on the interface named
 * by the argument, prints "attached" and holds it until killed (at most a minute).
 */
public final class XdpHoldProbe {
    private XdpHoldProbe() {}

    public static void main(String[] args) throws InterruptedException {
        VirtualInterface vi = NicDriver.byName("xdp").open(XdpSandbox.config(args[0], Map.of()), Clock.SYSTEM);
        System.out.println("attached " + vi.name());
        System.out.flush();
        Thread.sleep(60_000);
        vi.close();
    }
}
