package io.slipstream.replay;

import io.slipstream.replay.AppScript.Call;
import io.slipstream.replay.AppScript.Setup;
import io.slipstream.replay.Conversation.Role;
import io.slipstream.stack.Stack;
import io.slipstream.tcp.TcpConnectOptions;
import io.slipstream.testing.RawEnd;
import io.slipstream.testing.StackChecks;
import io.slipstream.testing.StackPair;
import io.slipstream.time.VirtualClock;
import io.slipstream.wire.Ipv4Address;
import io.slipstream.wire.MacAddress;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A Slipstream stack on the in-memory driver and virtual time, the engine at the link's other
 * end ({@link RawEnd}): replay costs no real time, and a run is deterministic.
 */
public final class MemoryTarget implements LiveTarget {
    static final int PEER_IP = Ipv4Address.parse("198.19.41.1");
    static final int STACK_IP = Ipv4Address.parse("198.19.41.2");
    private static final long PEER_MAC = 0x02_00_00_00_41_01L;
    private static final long STACK_MAC = 0x02_00_00_00_41_02L;

    private final VirtualClock clock = new VirtualClock();
    private final RawEnd raw;
    private final Stack stack;
    private final PacketCodec codec = new PacketCodec();
    private final StackSocket socket;
    private int sentCount;

    public MemoryTarget(Setup setup) {
        String link = StackPair.newLink("replay");
        raw = new RawEnd(link, PEER_MAC, clock).answerArp(PEER_IP);
        Map<String, String> options = new HashMap<>(stackSettings(setup));
        options.put("slipstream.mac", MacAddress.format(STACK_MAC));
        stack = Stack.open(StackPair.config(link, Ipv4Address.format(STACK_IP) + "/24", options), clock);
        raw.take(); // the stack's announcement at start
        socket = new StackSocket(stack, PEER_IP);
    }

    /** The stack settings a capture's setup asks for (options its SYN left out, its MTU). */
    static Map<String, String> stackSettings(Setup setup) {
        return Map.of("slipstream.tcp.timestamps", Boolean.toString(setup.timestamps()),
                "slipstream.tcp.window.scaling", Boolean.toString(setup.windowScaling()),
                "slipstream.tcp.sack", Boolean.toString(setup.sack()),
                "slipstream.mtu", Integer.toString(setup.mtu()));
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
            settle();
        }
    }

    @Override
    public List<ReplayPacket> takeSent() {
        settle();
        List<ReplayPacket> out = new ArrayList<>();
        for (byte[] f : raw.take()) {
            codec.read(++sentCount, clock.nanoTime(), f).ifPresent(out::add);
        }
        return out;
    }

    @Override
    public void pass(long nanos) {
        clock.advance(nanos);
        settle();
    }

    private void settle() {
        for (int i = 0; i < 10_000 && stack.poll() + raw.poll() > 0; i++) {
            // let the stack process and answer
        }
    }

    @Override
    public void call(AppScript script, AppScript.Step step, int peerPort, int livePort) throws Exception {
        socket.call(script, step, peerPort, livePort);
        settle();
    }

    @Override
    public int service(boolean reading) {
        int n = socket.service(reading);
        settle();
        return n;
    }

    @Override
    public String diagnostics() {
        return stack.nonZeroCounters();
    }

    @Override
    public boolean virtualTime() {
        return true;
    }

    @Override
    public void close() {
        socket.close();
        settle();
        StackChecks.closeChecked(stack);
        raw.close();
    }
}
