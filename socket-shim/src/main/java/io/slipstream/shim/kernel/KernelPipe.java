package io.slipstream.shim.kernel;

import static java.lang.foreign.ValueLayout.JAVA_INT;

import io.slipstream.linux.Libc;
import java.io.IOException;

/** A kernel pipe (pipe2, non-blocking and close-on-exec): its read end and its write end. */
public record KernelPipe(KernelFd source, KernelFd sink) {
    public static KernelPipe open() throws IOException {
        NativeScratch n = NativeScratch.get();
        if (n.sockets.pipe(n.value, Libc.O_NONBLOCK | Libc.O_CLOEXEC) < 0) {
            throw new IOException(n.sockets.libc().failure("pipe2"));
        }
        return new KernelPipe(new KernelFd(n.value.get(JAVA_INT, 0)), new KernelFd(n.value.get(JAVA_INT, 4)));
    }
}
