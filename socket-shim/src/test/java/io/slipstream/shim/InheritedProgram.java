package io.slipstream.shim;

import java.nio.ByteBuffer;
import java.nio.channels.Channel;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;

/** Started with a listening socket as its standard input: echoes one 7-byte message on it. */
public final class InheritedProgram {
    private InheritedProgram() {}

    public static void main(String[] args) throws Exception {
        Channel ch = System.inheritedChannel();
        System.out.println("inherited " + (ch == null ? "null" : ch.getClass().getSimpleName()));
        ServerSocketChannel server = (ServerSocketChannel) ch;
        System.out.println("blocking " + server.isBlocking());
        try (SocketChannel s = server.accept()) {
            ByteBuffer b = ByteBuffer.allocate(7);
            while (b.hasRemaining() && s.read(b) >= 0) {
                // read the whole message
            }
            s.write(b.flip());
        }
        System.out.println("again " + (System.inheritedChannel() == ch));
    }
}
