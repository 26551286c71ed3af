package io.slipstream.shim;

import java.io.IOException;
import java.nio.channels.DatagramChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;

/**
 * A selector watching a bound, non-blocking datagram channel for reads ({@link #key}), and a
 * bound peer to send to it from; closed together.
 */
record UdpSelection(Selector selector, DatagramChannel channel, DatagramChannel peer, SelectionKey key)
        implements AutoCloseable {

    static UdpSelection open(Env env) throws IOException {
        Selector sel = env.provider().openSelector();
        DatagramChannel dc = null;
        DatagramChannel peer = null;
        try {
            dc = env.provider().openDatagramChannel().bind(env.udpServerAny());
            peer = env.provider().openDatagramChannel().bind(env.udpClientAny());
            dc.configureBlocking(false);
            return new UdpSelection(sel, dc, peer, dc.register(sel, SelectionKey.OP_READ));
        } catch (IOException | RuntimeException e) {
            for (AutoCloseable c : new AutoCloseable[] {peer, dc, sel}) {
                if (c != null) {
                    try {
                        c.close();
                    } catch (Exception suppressed) {
                        e.addSuppressed(suppressed);
                    }
                }
            }
            throw e;
        }
    }

    /** Closes the peer, the channel and the selector, in that order. */
    @Override
    public void close() throws IOException {
        peer.close();
        channel.close();
        selector.close();
    }
}
