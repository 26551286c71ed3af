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
import io.slipstream.testing.StackChecks;
import io.slipstream.time.Clock;
import io.slipstream.wire.Ipv4Address;
import io.slipstream.wire.MacAddress;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.locks.LockSupport;

/**
 * A Slipstream stack on the TAP driver as the live end, in real time: the stack on one TAP
 * device (198.19.43.2), the engine's raw frames on another (198.19.43.1), the kernel sides of
 * both joined by a bridge in a network namespace the target creates, so every frame crosses the
 * kernel's TAP and bridge code as it would on a real link. The test's thread polls the stack.
 */
public final class TapTarget implements LiveTarget {
    static final int PEER_IP = Ipv4Address.parse("198.19.43.1");
    static final int STACK_IP = Ipv4Address.parse("198.19.43.2");
    private static final long PEER_MAC = 0x02_00_00_00_43_01L;
    private static final long STACK_MAC = 0x02_00_00_00_43_02L;
    private static final long POLL_PAUSE_NANOS = 50_000L;

    private final NetNs ns;
    private final Stack stack;
    private final RawEnd raw;
    private final StackSocket socket;
    private final PacketCodec codec = new PacketCodec();
    private int sentCount;

    public TapTarget(Setup setup) {
        ns = NetNs.create("ssrpt");
        Stack opened = null;
        RawEnd end = null;
        try {
            String stackDevice = "ssrs" + NetNs.randomHex(8);
            String peerDevice = "ssrp" + NetNs.randomHex(8);
            Map<String, String> settings = new HashMap<>(MemoryTarget.stackSettings(setup));
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
        stack = opened;
        raw = end;
        socket = new StackSocket(stack, PEER_IP);
    }

    @Override
    public int peerAddress() {
        return PEER_IP;
    }

    @Override
    public int liveAddress() {
        return STACK_IP;
    }

    @Override
    public void inject(ReplayPacket p) {
        for (byte[] f : codec.write(p, STACK_MAC, PEER_MAC)) {
            raw.send(f);
        }
        stack.poll();
    }

    @Override
    public List<ReplayPacket> takeSent() {
        stack.poll();
        List<ReplayPacket> out = new ArrayList<>();
        for (byte[] f : raw.take()) {
            codec.read(++sentCount, System.nanoTime(), f).ifPresent(out::add);
        }
        return out;
    }

    @Override
    public void pass(long nanos) {
        long end = System.nanoTime() + nanos;
        do {
            if (stack.poll() + raw.poll() == 0) {
                LockSupport.parkNanos(Math.min(POLL_PAUSE_NANOS, Math.max(0, end - System.nanoTime())));
            }
        } while (System.nanoTime() < end);
    }

    @Override
    public void call(AppScript script, AppScript.Step step, int peerPort, int livePort) throws Exception {
        socket.call(script, step, peerPort, livePort);
        stack.poll();
    }

    @Override
    public int service(boolean reading) {
        int n = socket.service(reading);
        stack.poll();
        return n;
    }

    @Override
    public String diagnostics() {
        return stack.nonZeroCounters();
    }

    @Override
    public boolean virtualTime() {
        return false;
    }

    @Override
    public void close() throws Exception {
        socket.close();
        stack.poll();
        try {
            StackChecks.closeChecked(stack);
        } finally {
            raw.close();
            ns.close();
        }
    }
}
