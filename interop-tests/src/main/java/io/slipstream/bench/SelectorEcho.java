package io.slipstream.bench;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.Iterator;

/**
 * The server side of {@link ServerBench}'s ping-pong, written as a plain selector-driven NIO
 * server is: one thread, one {@link Selector} holding the non-blocking listener (it stays
 * registered for OP_ACCEPT while connections run) and the accepted connection (OP_READ); each
 * 64-byte message read in full is written straight back. Bound to the wildcard on a driver
 * that shares the kernel's interface, the listener is the kernel's and the stack's at once, so
 * this selector holds kernel and stack keys (a mixed selector); bound to the stack's address,
 * stack keys only.
 */
final class SelectorEcho {
    private static final com.sun.management.ThreadMXBean THREADS =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

    private SelectorEcho() {}

    /**
     * Serves one connection for {@code warmup + rounds} messages, then returns the heap this
     * thread allocated per measured round trip (selector included).
     */
    static double serve(InetSocketAddress bindAddress, int rounds, int warmup) throws IOException {
        try (Selector selector = Selector.open(); ServerSocketChannel listener = ServerSocketChannel.open()) {
            listener.configureBlocking(false);
            listener.bind(bindAddress);
            listener.register(selector, SelectionKey.OP_ACCEPT);
            System.out.println("listening");
            System.out.flush();
            ByteBuffer message = ByteBuffer.allocateDirect(ChannelPingPong.MESSAGE);
            SocketChannel connection = null;
            int echoed = 0;
            long allocatedBytes = warmup == 0 ? -THREADS.getCurrentThreadAllocatedBytes() : 0;
            try {
                while (echoed < warmup + rounds) {
                    selector.select();
                    for (Iterator<SelectionKey> keys = selector.selectedKeys().iterator(); keys.hasNext(); ) {
                        SelectionKey key = keys.next();
                        keys.remove();
                        if (key.isAcceptable()) {
                            SocketChannel accepted = listener.accept();
                            if (accepted == null) {
                                continue; // another accept took it; selectors may report spuriously
                            }
                            if (connection != null) {
                                accepted.close(); // the bench has one client; a stray one is not served
                                continue;
                            }
                            connection = accepted;
                            connection.configureBlocking(false);
                            connection.setOption(StandardSocketOptions.TCP_NODELAY, true);
                            connection.register(selector, SelectionKey.OP_READ);
                        } else if (key.isReadable()) {
                            if (connection.read(message) < 0) {
                                throw new IOException("the client closed after " + echoed + " of " + (warmup + rounds)
                                        + " messages");
                            }
                            if (!message.hasRemaining()) {
                                message.flip();
                                ChannelIo.writeFully(connection, message); // 64 bytes: the socket buffer takes them
                                message.clear();
                                if (++echoed == warmup) {
                                    allocatedBytes = -THREADS.getCurrentThreadAllocatedBytes();
                                }
                            }
                        }
                    }
                }
                allocatedBytes += THREADS.getCurrentThreadAllocatedBytes();
            } finally {
                if (connection != null) {
                    connection.close();
                }
            }
            return allocatedBytes / (double) rounds;
        }
    }
}
