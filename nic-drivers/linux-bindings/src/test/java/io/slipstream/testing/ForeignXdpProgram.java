package io.slipstream.testing;

import io.slipstream.linux.Bpf;
import io.slipstream.linux.Libc;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * An XDP program attached to an interface the way another tool attaches one, for tests of what
 * Slipstream does with an interface it must not take over: a program of two instructions
 * (return XDP_PASS, so the kernel's traffic goes on) loaded with bpf(2) under a name, pinned
 * in a BPF file system mounted for the purpose, and attached by iproute2 ({@code ip link set
 * dev IF xdpgeneric pinned FILE}) through netlink, so that no process holds it. The mount is
 * gone before {@link #attach} returns (the attachment keeps the program); closing detaches it.
 * Needs root.
 */
public final class ForeignXdpProgram implements AutoCloseable {
    /** {@code r0 = 2 (XDP_PASS); exit}, as the kernel reads instructions: opcode, registers, offset, immediate. */
    private static final long[] PASS = {0xb7L | (2L << 32), 0x95L};

    private final String ifname;
    private boolean closed;

    private ForeignXdpProgram(String ifname) {
        this.ifname = ifname;
    }

    /** Loads the program as {@code name} and attaches it to {@code ifname} in generic mode. */
    public static ForeignXdpProgram attach(String ifname, String name) {
        Path mount;
        try {
            mount = Files.createTempDirectory("slipstream-bpffs-");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        try {
            NetNs.run("mount", "-t", "bpf", "bpf", mount.toString()).orThrow();
            try {
                Path pin = mount.resolve(name);
                pin(name, pin);
                NetNs.run("ip", "link", "set", "dev", ifname, "xdpgeneric", "pinned", pin.toString()).orThrow();
            } finally {
                NetNs.run("umount", mount.toString()).orThrow();
            }
        } finally {
            try {
                Files.deleteIfExists(mount);
            } catch (IOException ignored) {
                // an empty temporary directory left behind is harmless
            }
        }
        return new ForeignXdpProgram(ifname);
    }

    private static void pin(String name, Path pin) {
        try (Arena arena = Arena.ofConfined()) {
            Bpf bpf = new Bpf(new Libc(arena), arena);
            MemorySegment code = arena.allocate(ValueLayout.JAVA_LONG, PASS.length);
            MemorySegment.copy(PASS, 0, code, ValueLayout.JAVA_LONG, 0, PASS.length);
            int fd = bpf.progLoad(Bpf.PROG_TYPE_XDP, code, "GPL", name, null);
            if (fd < 0) {
                throw new IllegalStateException(bpf.libc().failure("BPF_PROG_LOAD of " + name));
            }
            try {
                if (bpf.objPin(fd, pin.toString()) < 0) {
                    throw new IllegalStateException(bpf.libc().failure("BPF_OBJ_PIN at " + pin));
                }
            } finally {
                bpf.libc().close(fd);
            }
        }
    }

    /** What its owner runs to remove it. */
    public String detachCommand() {
        return "ip link set dev " + ifname + " xdpgeneric off";
    }

    /** Detaches it, unless the interface is gone (which takes the program along). Idempotent. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (Files.exists(Path.of("/sys/class/net", ifname))) {
            NetNs.run("ip", "link", "set", "dev", ifname, "xdpgeneric", "off").orThrow();
        }
    }
}
