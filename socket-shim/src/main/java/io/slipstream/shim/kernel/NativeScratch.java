package io.slipstream.shim.kernel;

import io.slipstream.linux.Libc;
import io.slipstream.linux.SockAddr;
import io.slipstream.linux.Sockets;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * A thread's handle on the socket system calls: its own errno capture and the small native
 * buffers (a socket address, a length, an option value) that calls fill in. One per thread,
 * allocated on the thread's first kernel-socket call and freed by the GC with it.
 */
final class NativeScratch {
    private static final ThreadLocal<NativeScratch> CURRENT = ThreadLocal.withInitial(NativeScratch::new);

    final Sockets sockets;
    final MemorySegment address;
    final MemorySegment length;
    final MemorySegment value;

    private NativeScratch() {
        Arena arena = Arena.ofAuto();
        sockets = new Sockets(new Libc(arena));
        address = arena.allocate(SockAddr.MAX_LENGTH, 8);
        length = arena.allocate(ValueLayout.JAVA_INT);
        value = arena.allocate(16, 8);
    }

    static NativeScratch get() {
        return CURRENT.get();
    }

    static Sockets sockets() {
        return CURRENT.get().sockets;
    }
}
