package io.slipstream.relay;

import io.slipstream.testing.NetNs;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.SplittableRandom;

/**
 * The kernel ends of a relayed transfer: a receiver in the peer namespace that times a whole
 * download, and a kernel sender for the kernel↔kernel runs; and the bodies a Slipstream sender
 * sends with their digests. The receiver's clock runs from its connect to the sender's FIN, the
 * same for either sender.
 */
public final class RelayTransfers {
    /**
     * Connects to argv[1]:argv[2] and reads to the end, each read waiting at most argv[3]
     * seconds: prints "ok BYTES SHA256 ELAPSED_NS", or "reset BYTES ..." when the connection
     * was reset, or "timeout BYTES ..." when a read waited too long.
     */
    static final String RECEIVE = String.join("\n",
            "import socket, hashlib, sys, time",
            "h = hashlib.sha256(); got = 0; outcome = 'ok'",
            "start = time.monotonic_ns()",
            "try:",
            "    s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=float(sys.argv[3]))",
            "    while True:",
            "        d = s.recv(262144)",
            "        if not d: break",
            "        h.update(d); got += len(d)",
            "except ConnectionResetError:",
            "    outcome = 'reset'",
            "except socket.timeout:",
            "    outcome = 'timeout'",
            "except ConnectionRefusedError:",
            "    outcome = 'refused'",
            "print(outcome, got, h.hexdigest(), time.monotonic_ns() - start, flush=True)");

    /**
     * Listens on argv[1]:argv[2] and prints "listening"; sends argv[3] bytes seeded by argv[4]
     * to the one client it accepts, closes, and prints their SHA-256.
     */
    static final String SERVE = String.join("\n",
            "import socket, hashlib, random, sys",
            "data = random.Random(int(sys.argv[4])).randbytes(int(sys.argv[3]))",
            "srv = socket.socket(); srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)",
            "srv.bind((sys.argv[1], int(sys.argv[2]))); srv.listen(1); srv.settimeout(120)",
            "print('listening', flush=True)",
            "c, _ = srv.accept()",
            "c.sendall(data); c.close()",
            "print(hashlib.sha256(data).hexdigest(), flush=True)");

    /** What the receiver saw: how it ended, how many bytes, their digest and the time it took. */
    public record Received(String outcome, long bytes, String sha256, long elapsedNs) {
        public boolean ok() {
            return outcome.equals("ok");
        }
    }

    private RelayTransfers() {}

    /** Runs {@link #RECEIVE} in {@code ns} against {@code address}:{@code port}; at most {@code limit} in all. */
    public static Received receive(NetNs ns, String address, int port, Duration readTimeout, Duration limit) {
        NetNs.Result r = ns.exec(limit, "python3", "-c", RECEIVE, address, Integer.toString(port),
                Long.toString(readTimeout.toSeconds()));
        if (!r.ok()) {
            return new Received(r.timedOut() ? "killed after " + limit : "failed: " + r, 0, "", limit.toNanos());
        }
        String[] f = r.stdout().strip().split(" ");
        return new Received(f[0], Long.parseLong(f[1]), f[2], Long.parseLong(f[3]));
    }

    /** Starts {@link #SERVE} in {@code ns} and waits, at most {@code step}, until it listens. */
    public static NetNs.Background kernelServer(NetNs ns, String address, int port, int length, long seed,
                                                Duration step) throws InterruptedException {
        return awaitListening(ns.start("python3", "-c", SERVE, address, Integer.toString(port),
                Integer.toString(length), Long.toString(seed)), step);
    }

    /**
     * Waits, at most {@code step}, until {@code server} (a script started in a namespace) prints
     * "listening"; kills it and says what it printed when it ends or the time runs out first.
     */
    public static NetNs.Background awaitListening(NetNs.Background server, Duration step) throws InterruptedException {
        long deadline = System.nanoTime() + step.toNanos();
        while (!server.output().contains("listening")) {
            if (!server.isAlive() || System.nanoTime() - deadline > 0) {
                String output = server.output();
                server.close();
                throw new IllegalStateException("the kernel server did not start: " + output);
            }
            Thread.sleep(20);
        }
        return server;
    }

    /** {@code length} bytes from a generator seeded with {@code seed}. */
    public static byte[] body(int length, long seed) {
        byte[] b = new byte[length];
        new SplittableRandom(seed).nextBytes(b);
        return b;
    }

    public static String sha256(byte[] b) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
        } catch (NoSuchAlgorithmException e) {
            throw new AssertionError("every JDK has SHA-256", e);
        }
    }
}
