package io.slipstream.interop;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.SplittableRandom;

/**
 * The kernel side of the stack-over-driver transfer tests (xdp, packet): python scripts a
 * test runs in a namespace, and the bodies and digests they are checked against.
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

    static byte[] body(int length, long seed) {
        byte[] b = new byte[length];
        new SplittableRandom(seed).nextBytes(b);
        return b;
    }

    static String sha256(byte[] b) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
        } catch (NoSuchAlgorithmException e) {
            throw new AssertionError("every JDK has SHA-256", e);
        }
    }
}
