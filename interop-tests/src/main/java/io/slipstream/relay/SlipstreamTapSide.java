package io.slipstream.relay;

import io.slipstream.bench.BlockingConnection;
import io.slipstream.config.Settings;
import io.slipstream.config.StackConfig;
import io.slipstream.stack.Stack;
import io.slipstream.stack.WaitQueue;
import io.slipstream.tcp.TcpConnectOptions;
import io.slipstream.tcp.TcpListener;
import io.slipstream.testing.NetNs;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * A Slipstream stack on a TAP device whose kernel side the {@link RelayLab} adopts, so the
 * stack reaches the lab's peer through the relay; the stack runtime's interrupt thread drives
 * it, as it drives an application's.
 */
public final class SlipstreamTapSide implements AutoCloseable {
    private final Stack stack;
    private final String device;

    private SlipstreamTapSide(Stack stack, String device) {
        this.stack = stack;
        this.device = device;
    }

    /** Opens the stack with {@code settings} added to the TAP, interface and address ones. */
    public static SlipstreamTapSide open(RelayLab lab, Map<String, String> settings) {
        String device = "rlys" + NetNs.randomHex(8);
        Map<String, String> all = new HashMap<>(settings);
        all.put("slipstream.driver", "tap");
        all.put("slipstream.interface", device);
        all.put("slipstream.address", lab.slipstreamCidr());
        Stack stack = Stack.open(StackConfig.from(Settings.of(all)));
        try {
            lab.adoptTap(device);
        } catch (RuntimeException | Error e) {
            stack.close();
            throw e;
        }
        return new SlipstreamTapSide(stack, device);
    }

    public Stack stack() {
        return stack;
    }

    /** The TAP device's name, in the lab's relay namespace. */
    public String device() {
        return device;
    }

    /** Listens on {@code port} and sends {@code body} to the first client, then closes both; completes when written. */
    public CompletableFuture<Void> serveOnce(int port, byte[] body) {
        TcpListener[] listener = new TcpListener[1];
        WaitQueue queue = BlockingConnection.listen(stack, stack.tcp(), port, 4, TcpConnectOptions.DEFAULT, listener);
        return CompletableFuture.runAsync(() -> {
            try {
                BlockingConnection c = BlockingConnection.accept(stack, listener[0], queue);
                c.write(ByteBuffer.wrap(body));
                c.close();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            } finally {
                stack.enter();
                try {
                    listener[0].close();
                } finally {
                    stack.exit();
                }
            }
        });
    }

    @Override
    public void close() {
        stack.close();
    }
}
