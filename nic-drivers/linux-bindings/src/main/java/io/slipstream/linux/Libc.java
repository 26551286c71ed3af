package io.slipstream.linux;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;

/**
 * The C library functions the Linux drivers need, bound with the FFM API, and the means for
 * other binding classes (the shim's kernel sockets; mmap, bpf and netlink for AF_XDP to come)
 * to bind their own: {@link #bind}, {@link #callState}, {@link #linkageFailure}.
 *
 * <p>Each call returns what libc returns (-1 on failure) and leaves errno in this instance's
 * capture segment, read with {@link #errno()}. The segment is allocated once, with the
 * instance; an instance therefore belongs to one thread at a time (the stack's, or the
 * interrupt thread's), while the bindings are shared by all. The JDK's linker still makes a
 * small heap object per capturing call unless the JIT removes it, which it does not always
 * do; so the calls made per packet or per wake-up ({@link #awaitReady}, the AF_XDP kicks)
 * capture nothing on their way to success and learn errno only when something failed.
 *
 * <p>Buffers are passed as native addresses ({@code segment.address() + offset}), so the data
 * path slices no segment per packet. The caller keeps the memory alive for the call.
 */
public final class Libc {
    public static final int O_RDWR = 0x2;
    public static final int O_NONBLOCK = 0x800;
    public static final int O_CLOEXEC = 0x80000;
    /** fcntl(2): duplicate to the lowest free descriptor at or above the argument, close-on-exec. */
    public static final int F_DUPFD_CLOEXEC = 1030;

    public static final short POLLIN = 0x1;
    public static final short POLLOUT = 0x4;
    public static final short POLLERR = 0x8;
    public static final short POLLHUP = 0x10;
    public static final short POLLNVAL = 0x20;

    public static final int EFD_NONBLOCK = O_NONBLOCK;
    public static final int EFD_CLOEXEC = O_CLOEXEC;

    /** struct pollfd: int fd; short events; short revents. */
    public static final StructLayout POLLFD = MemoryLayout.structLayout(
            JAVA_INT.withName("fd"), JAVA_SHORT.withName("events"), JAVA_SHORT.withName("revents"));

    private static final long POLLFD_FD = POLLFD.byteOffset(MemoryLayout.PathElement.groupElement("fd"));
    private static final long POLLFD_EVENTS = POLLFD.byteOffset(MemoryLayout.PathElement.groupElement("events"));
    private static final long POLLFD_REVENTS = POLLFD.byteOffset(MemoryLayout.PathElement.groupElement("revents"));

    private static final Linker LINKER = Linker.nativeLinker();
    private static final StructLayout CALL_STATE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = CALL_STATE.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    private static final Linker.Option CAPTURE_ERRNO = Linker.Option.captureCallState("errno");
    /** For calls that return at once: no thread-state transition, no heap access needed. */
    private static final Linker.Option CRITICAL = Linker.Option.critical(false);

    private static final MethodHandle OPEN = bind("open",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT), CAPTURE_ERRNO, Linker.Option.firstVariadicArg(2));
    private static final MethodHandle CLOSE = bind("close",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT), CAPTURE_ERRNO);
    private static final FunctionDescriptor READ_WRITE = FunctionDescriptor.of(JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_LONG);
    private static final MethodHandle READ = bind("read", READ_WRITE, CAPTURE_ERRNO);
    private static final MethodHandle WRITE = bind("write", READ_WRITE, CAPTURE_ERRNO);
    private static final MethodHandle READ_NONBLOCKING = bind("read", READ_WRITE, CAPTURE_ERRNO, CRITICAL);
    private static final MethodHandle WRITE_NONBLOCKING = bind("write", READ_WRITE, CAPTURE_ERRNO, CRITICAL);
    private static final MethodHandle IOCTL = bind("ioctl",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, ADDRESS), CAPTURE_ERRNO, Linker.Option.firstVariadicArg(2));
    private static final FunctionDescriptor POLL_SIGNATURE = FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT);
    private static final MethodHandle POLL = bind("poll", POLL_SIGNATURE, CAPTURE_ERRNO);
    private static final MethodHandle POLL_UNCAPTURED = bind("poll", POLL_SIGNATURE);
    private static final MethodHandle POLL_NOW = bind("poll", POLL_SIGNATURE, CAPTURE_ERRNO, CRITICAL);
    private static final MethodHandle EVENTFD = bind("eventfd",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT), CAPTURE_ERRNO);
    private static final MethodHandle FCNTL_INT = bind("fcntl",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT), CAPTURE_ERRNO, Linker.Option.firstVariadicArg(2));
    private static final MethodHandle STRERROR = bind("strerror", FunctionDescriptor.of(ADDRESS, JAVA_INT));

    private final MemorySegment callState;

    /** A caller's handle on libc, with its errno capture allocated in {@code arena}. */
    public Libc(Arena arena) {
        this.callState = arena.allocate(CALL_STATE);
    }

    /** Binds a libc function; for the other binding classes. */
    public static MethodHandle bind(String name, FunctionDescriptor descriptor, Linker.Option... options) {
        MemorySegment symbol = LINKER.defaultLookup().find(name)
                .orElseThrow(() -> new UnsatisfiedLinkError("libc has no function " + name));
        return LINKER.downcallHandle(symbol, descriptor, options);
    }

    /** The errno capture segment, for the other binding classes to pass along: they then share {@link #errno()}. */
    public MemorySegment callState() {
        return callState;
    }

    /** errno as the last call through this instance left it. */
    public int errno() {
        return (int) ERRNO.get(callState, 0L);
    }

    /** "{@code operation}: EPERM (Operation not permitted)" for the last call's errno. */
    public String failure(String operation) {
        return operation + ": " + Errno.describe(errno());
    }

    /** open(2) without O_CREAT; returns the descriptor or -1. */
    public int open(String path, int flags) {
        try (Arena temp = Arena.ofConfined()) {
            return (int) OPEN.invokeExact(callState, temp.allocateFrom(path), flags);
        } catch (Throwable t) {
            throw linkageFailure("open", t);
        }
    }

    public int close(int fd) {
        try {
            return (int) CLOSE.invokeExact(callState, fd);
        } catch (Throwable t) {
            throw linkageFailure("close", t);
        }
    }

    /** read(2) into {@code count} bytes at native {@code address}; may block. */
    public long read(int fd, long address, long count) {
        try {
            return (long) READ.invokeExact(callState, fd, address, count);
        } catch (Throwable t) {
            throw linkageFailure("read", t);
        }
    }

    /** write(2) of {@code count} bytes at native {@code address}; may block. */
    public long write(int fd, long address, long count) {
        try {
            return (long) WRITE.invokeExact(callState, fd, address, count);
        } catch (Throwable t) {
            throw linkageFailure("write", t);
        }
    }

    /**
     * read(2) on a descriptor in O_NONBLOCK mode, linked as a critical function (no switch to
     * the native thread state), which is only right for calls that cannot block.
     */
    public long readNonBlocking(int fd, long address, long count) {
        try {
            return (long) READ_NONBLOCKING.invokeExact(callState, fd, address, count);
        } catch (Throwable t) {
            throw linkageFailure("read", t);
        }
    }

    /** write(2) on a descriptor in O_NONBLOCK mode; see {@link #readNonBlocking}. */
    public long writeNonBlocking(int fd, long address, long count) {
        try {
            return (long) WRITE_NONBLOCKING.invokeExact(callState, fd, address, count);
        } catch (Throwable t) {
            throw linkageFailure("write", t);
        }
    }

    /** ioctl(2) whose argument is a pointer to {@code arg}. */
    public int ioctl(int fd, long request, MemorySegment arg) {
        try {
            return (int) IOCTL.invokeExact(callState, fd, request, arg);
        } catch (Throwable t) {
            throw linkageFailure("ioctl", t);
        }
    }

    /**
     * poll(2) over {@code count} entries of {@code fds} (see {@link #pollFds}); {@code timeoutMillis}
     * negative waits forever. Blocks, so it is never linked as critical.
     */
    public int poll(MemorySegment fds, int count, int timeoutMillis) {
        try {
            return (int) POLL.invokeExact(callState, fds, (long) count, timeoutMillis);
        } catch (Throwable t) {
            throw linkageFailure("poll", t);
        }
    }

    /**
     * poll(2) for a thread whose wake-ups are on the data path: the same as {@link #poll} but
     * allocation-free, and an interrupted wait (EINTR) is not reported: a failed wait looks once
     * more without waiting, capturing errno, and returns that look's result. A lasting failure
     * (EBADF, EINVAL, ENOMEM) fails again and returns -1 with {@link #errno()} set.
     */
    public int awaitReady(MemorySegment fds, int count, int timeoutMillis) {
        int ready;
        try {
            ready = (int) POLL_UNCAPTURED.invokeExact(fds, (long) count, timeoutMillis);
        } catch (Throwable t) {
            throw linkageFailure("poll", t);
        }
        return ready >= 0 ? ready : pollNow(fds, count);
    }

    /** poll(2) with a zero timeout: a readiness check that never blocks, linked as critical. */
    public int pollNow(MemorySegment fds, int count) {
        try {
            return (int) POLL_NOW.invokeExact(callState, fds, (long) count, 0);
        } catch (Throwable t) {
            throw linkageFailure("poll", t);
        }
    }

    /**
     * A second descriptor for {@code fd}'s open file, close-on-exec (fcntl(2) F_DUPFD_CLOEXEC);
     * returns it or -1.
     */
    public int dupCloexec(int fd) {
        try {
            return (int) FCNTL_INT.invokeExact(callState, fd, F_DUPFD_CLOEXEC, 0);
        } catch (Throwable t) {
            throw linkageFailure("fcntl", t);
        }
    }

    /** eventfd(2); returns the descriptor or -1. */
    public int eventfd(int initialValue, int flags) {
        try {
            return (int) EVENTFD.invokeExact(callState, initialValue, flags);
        } catch (Throwable t) {
            throw linkageFailure("eventfd", t);
        }
    }

    /** The C library's description of {@code errno}. Error paths only: it allocates. */
    public static String strerror(int errno) {
        try {
            MemorySegment text = (MemorySegment) STRERROR.invokeExact(errno);
            return text.equals(MemorySegment.NULL) ? "unknown error" : text.reinterpret(Integer.MAX_VALUE).getString(0);
        } catch (Throwable t) {
            throw linkageFailure("strerror", t);
        }
    }

    /** {@code count} zeroed pollfd entries. */
    public static MemorySegment pollFds(Arena arena, int count) {
        return arena.allocate(POLLFD, count);
    }

    /** Sets entry {@code index}: watch {@code fd} for {@code events}, clear revents. */
    public static void setPollFd(MemorySegment fds, int index, int fd, short events) {
        long base = index * POLLFD.byteSize();
        fds.set(JAVA_INT, base + POLLFD_FD, fd);
        fds.set(JAVA_SHORT, base + POLLFD_EVENTS, events);
        fds.set(JAVA_SHORT, base + POLLFD_REVENTS, (short) 0);
    }

    /** The events poll(2) reported for entry {@code index}. */
    public static short revents(MemorySegment fds, int index) {
        return fds.get(JAVA_SHORT, index * POLLFD.byteSize() + POLLFD_REVENTS);
    }

    /**
     * A downcall threw: a closed arena (IllegalStateException) or a binding that does not match
     * the call, never an errno. Runtime exceptions and errors pass unchanged.
     */
    public static RuntimeException linkageFailure(String function, Throwable t) {
        if (t instanceof RuntimeException r) {
            return r;
        }
        if (t instanceof Error e) {
            throw e;
        }
        return new IllegalStateException("native call " + function + " failed", t);
    }
}
