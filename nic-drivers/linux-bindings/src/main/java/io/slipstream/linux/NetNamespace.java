package io.slipstream.linux;

import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.invoke.MethodHandle;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Runs a piece of code inside another network namespace with setns(2), on a thread of its
 * own that ends with it, so no other thread of the JVM ever changes namespace.
 *
 * <p>What that code creates keeps the namespace it was created in: a netlink socket opened
 * there talks to that namespace's tables for its whole life, read from any thread. Only open
 * things there: a thread started from there would live in the namespace too.
 */
public final class NetNamespace {
    /** setns(2) nstype for a network namespace (sched.h CLONE_NEWNET). */
    public static final int CLONE_NEWNET = 0x40000000;
    /** Where {@code ip netns add NAME} pins a namespace. */
    public static final Path IP_NETNS_DIR = Path.of("/var/run/netns");

    private static final MethodHandle SETNS = Libc.bind("setns",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT), Linker.Option.captureCallState("errno"));

    private NetNamespace() {}

    /** The path of the namespace {@code ip netns} knows as {@code name}. */
    public static Path named(String name) {
        return IP_NETNS_DIR.resolve(name);
    }

    /**
     * Calls {@code action} on a new platform thread that first joins the network namespace
     * pinned at {@code namespace} (a file such as {@code /var/run/netns/NAME} or
     * {@code /proc/PID/ns/net}), and returns what it returned. Needs CAP_SYS_ADMIN.
     */
    public static <T> T call(Path namespace, Callable<T> action) throws IOException {
        AtomicReference<T> result = new AtomicReference<>();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread t = Thread.ofPlatform().name("slipstream-setns").unstarted(() -> {
            try (Arena arena = Arena.ofConfined()) {
                Libc libc = new Libc(arena);
                int fd = libc.open(namespace.toString(), Libc.O_CLOEXEC);
                if (fd < 0) {
                    throw new IOException(libc.failure("open " + namespace));
                }
                int rc;
                try {
                    rc = (int) SETNS.invokeExact(libc.callState(), fd, CLONE_NEWNET);
                } finally {
                    libc.close(fd);
                }
                if (rc < 0) {
                    throw new IOException(libc.failure("setns " + namespace));
                }
                result.set(action.call());
            } catch (Throwable e) {
                failure.set(e);
            }
        });
        t.start();
        boolean interrupted = false;
        while (true) {
            try {
                t.join();
                break;
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
        Throwable e = failure.get();
        if (e instanceof IOException io) {
            throw io;
        }
        if (e instanceof RuntimeException r) {
            throw r;
        }
        if (e instanceof Error err) {
            throw err;
        }
        if (e != null) {
            throw new IOException("in namespace " + namespace, e);
        }
        return result.get();
    }
}
