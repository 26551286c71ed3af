package io.slipstream.replay;

import io.slipstream.config.Settings;
import io.slipstream.config.StackConfig;
import io.slipstream.nic.NicConfig;
import io.slipstream.nic.NicDriver;
import io.slipstream.nic.VirtualInterface;
import io.slipstream.replay.AppScript.Setup;
import io.slipstream.stack.Stack;
import io.slipstream.testing.NetNs;
import io.slipstream.testing.RawEnd;
import io.slipstream.time.Clock;
import io.slipstream.wire.Ipv4Address;
import io.slipstream.wire.MacAddress;
import java.util.HashMap;
import java.util.Map;

/**
 * A Slipstream stack on the TAP driver as the live end, in real time: the stack on one TAP
 * device (198.19.43.2), the engine's raw frames on another (198.19.43.1), the kernel sides of
 * both joined by a bridge in a network namespace the target creates, so every frame crosses the
 * kernel's TAP and bridge code as it would on a real link. The test's thread polls the stack.
 */
public final class TapTarget extends StackTarget {
    static final int PEER_IP = Ipv4Address.parse("198.19.43.1");
    static final int STACK_IP = Ipv4Address.parse("198.19.43.2");
    private static final long PEER_MAC = 0x02_00_00_00_43_01L;
    private static final long STACK_MAC = 0x02_00_00_00_43_02L;
    private static final long POLL_PAUSE_NANOS = 50_000L;

    private final NetNs ns;

    public TapTarget(Setup setup) {
        super(PEER_IP, STACK_IP);
        ns = NetNs.create("ssrpt");
        Stack opened = null;
        RawEnd end = null;
        try {
            String stackDevice = "ssrs" + NetNs.randomHex(8);
            String peerDevice = "ssrp" + NetNs.randomHex(8);
            Map<String, String> settings = new HashMap<>(stackSettings(setup));
            settings.put("slipstream.driver", "tap");
            settings.put("slipstream.interface", stackDevice);
            settings.put("slipstream.address", Ipv4Address.format(STACK_IP) + "/24");
            settings.put("slipstream.mac", MacAddress.format(STACK_MAC));
            // This thread drives the stack by polling it: no interrupt thread behind its back.
            settings.put("slipstream.interrupt.thread", "false");
            opened = Stack.open(StackConfig.from(Settings.of(settings)));
            VirtualInterface vi = NicDriver.byName("tap").open(NicConfig.of(peerDevice, PEER_MAC, Map.of()), Clock.SYSTEM);
            end = new RawEnd(vi, PEER_MAC).answerArp(PEER_IP);
            ns.exec("sysctl", "-q", "-w", "net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1")
                    .orThrow();
            ns.exec("ip", "link", "add", "br0", "type", "bridge").orThrow();
            for (String device : new String[] {stackDevice, peerDevice}) {
                NetNs.run("ip", "link", "set", device, "netns", ns.name()).orThrow();
                ns.exec("ip", "link", "set", device, "master", "br0").orThrow();
                ns.exec("ip", "link", "set", device, "up").orThrow();
            }
            ns.exec("ip", "link", "set", "br0", "up").orThrow();
        } catch (RuntimeException e) {
            if (end != null) {
                end.close();
            }
            if (opened != null) {
                opened.close();
            }
            ns.close();
            throw e;
        }
        opened(opened, new EngineEnd(end, PEER_MAC, STACK_MAC));
    }

    @Override
    public void pass(long nanos) {
        EngineEnd.passRealTime(nanos, () -> stack.poll() + engine.poll(), POLL_PAUSE_NANOS);
    }

    @Override
    protected void settle() {
        stack.poll();
    }

    @Override
    protected long nowNanos() {
        return System.nanoTime();
    }

    @Override
    public boolean virtualTime() {
        return false;
    }

    @Override
    protected void closeLink() {
        ns.close();
    }
}
