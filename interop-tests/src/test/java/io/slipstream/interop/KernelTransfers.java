package io.slipstream.interop;

import io.slipstream.bench.BlockingConnection;
import io.slipstream.relay.RelayTransfers;
import io.slipstream.testing.NetNs;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;

/**
 * The kernel side of the stack-over-driver transfer tests (xdp, packet): python scripts a
 * test runs in a namespace (the bodies and digests they are checked against are
 * {@link RelayTransfers}').
 */
final class KernelTransfers {
    /**
     * A kernel client of argv[3] concurrent connections to argv[1]:argv[2], each reading to the
     * end: prints "length sha256" per connection, in connection order.
     */
    static final String DOWNLOAD = String.join("\n",
            "import socket, hashlib, sys, threading",
            "n = int(sys.argv[3]); out = [None] * n",
            "def get(i):",
            "    s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=30)",
            "    h = hashlib.sha256(); got = 0",
            "    while True:",
            "        d = s.recv(65536)",
            "        if not d: break",
            "        h.update(d); got += len(d)",
            "    out[i] = '%d %s' % (got, h.hexdigest())",
            "ts = [threading.Thread(target=get, args=(i,)) for i in range(n)]",
            "for t in ts: t.start()",
            "for t in ts: t.join()",
            "print('\\n'.join(str(o) for o in out))");

    /**
     * A kernel server on argv[1]:argv[2] that prints "listening", sends argv[3] random bytes to
     * the one client it accepts, closes, and prints their SHA-256.
     */
    static final String SERVE = String.join("\n",
            "import socket, hashlib, os, sys",
            "srv = socket.socket(); srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)",
            "srv.bind((sys.argv[1], int(sys.argv[2]))); srv.listen(1); srv.settimeout(60)",
            "print('listening', flush=True)",
            "c, _ = srv.accept(); data = os.urandom(int(sys.argv[3]))",
            "c.sendall(data); c.close()",
            "print(hashlib.sha256(data).hexdigest(), flush=True)");

    private KernelTransfers() {}

    /** Starts {@link #SERVE} in {@code ns} and waits, at most {@code step}, until it listens. */
    static NetNs.Background startServer(NetNs ns, String address, int port, int length, Duration step)
            throws InterruptedException {
        return RelayTransfers.awaitListening(ns.start("python3", "-c", SERVE, address, Integer.toString(port),
                Integer.toString(length)), step);
    }

    /** Reads {@code c} to the end and closes it: "length sha256", as {@link #DOWNLOAD} prints. */
    static String readToEnd(BlockingConnection c) throws IOException {
        MessageDigest sha;
        try {
            sha = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new AssertionError("every JDK has SHA-256", e);
        }
        ByteBuffer in = ByteBuffer.allocate(64 * 1024);
        long received = 0;
        for (int n = c.read(in); n >= 0; n = c.read(in)) {
            in.flip();
            sha.update(in);
            in.clear();
            received += n;
        }
        c.close();
        return received + " " + HexFormat.of().formatHex(sha.digest());
    }

}
