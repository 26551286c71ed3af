package io.slipstream.driver.tap;

import io.slipstream.nic.NicException;
import io.slipstream.nic.VirtualInterface;

/**
 * Run in a child JVM by {@link TapLifecycleTest} with fewer privileges: tries to open the TAP
 * device named by the argument and prints the driver's error. Exit 0: refused as expected.
 */
public final class TapOpenProbe {
    private TapOpenProbe() {}

    public static void main(String[] args) {
        try (VirtualInterface vi = TapSandbox.openDriver(args[0])) {
            System.out.println("opened " + vi.name());
            System.exit(2);
        } catch (NicException e) {
            System.out.println(e.getMessage());
        }
    }
}
