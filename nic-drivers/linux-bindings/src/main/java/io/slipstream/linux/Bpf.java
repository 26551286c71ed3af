package io.slipstream.linux;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.nio.charset.StandardCharsets;

/**
 * The bpf(2) system call (there is no libc wrapper: it goes through {@code syscall(2)}), for
 * the commands an XDP driver needs: maps, program load with the verifier's log, links and
 * object info. The {@code union bpf_attr} layouts are those of {@code include/uapi/linux/bpf.h};
 * every attribute block is zeroed before it is filled, as the kernel requires of unused tails.
 *
 * <p>Like {@link Libc}, an instance carries one errno capture and one attribute block, so it
 * belongs to one thread at a time. Map updates and deletes allocate nothing per call.
 */
public final class Bpf {
    // Commands (enum bpf_cmd).
    public static final int BPF_MAP_CREATE = 0;
    public static final int BPF_MAP_LOOKUP_ELEM = 1;
    public static final int BPF_MAP_UPDATE_ELEM = 2;
    public static final int BPF_MAP_DELETE_ELEM = 3;
    public static final int BPF_MAP_GET_NEXT_KEY = 4;
    public static final int BPF_PROG_LOAD = 5;
    public static final int BPF_OBJ_PIN = 6;
    public static final int BPF_PROG_TEST_RUN = 10;
    public static final int BPF_PROG_GET_FD_BY_ID = 13;
    public static final int BPF_OBJ_GET_INFO_BY_FD = 15;
    public static final int BPF_LINK_CREATE = 28;

    // Map types (enum bpf_map_type).
    public static final int MAP_TYPE_HASH = 1;
    public static final int MAP_TYPE_ARRAY = 2;
    public static final int MAP_TYPE_PERCPU_ARRAY = 6;
    public static final int MAP_TYPE_XSKMAP = 17;

    /** enum bpf_prog_type BPF_PROG_TYPE_XDP. */
    public static final int PROG_TYPE_XDP = 6;
    /** enum bpf_attach_type BPF_XDP. */
    public static final int ATTACH_TYPE_XDP = 37;

    // Map update flags.
    public static final long BPF_ANY = 0;
    public static final long BPF_NOEXIST = 1;
    public static final long BPF_EXIST = 2;

    // XDP attach flags (if_link.h), the flags of a BPF_XDP link.
    public static final int XDP_FLAGS_SKB_MODE = 1 << 1;
    public static final int XDP_FLAGS_DRV_MODE = 1 << 2;

    /** Size of the attribute block we pass: large enough for every command used here. */
    private static final int ATTR_SIZE = 128;
    /** struct bpf_prog_info / bpf_link_info: the leading fields read here fit in this. */
    public static final int INFO_SIZE = 256;

    private static final long SYS_BPF = sysBpf();

    private static final MethodHandle SYSCALL = Libc.bind("syscall",
            FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG),
            Linker.Option.captureCallState("errno"), Linker.Option.firstVariadicArg(1));

    private final Libc libc;
    private final MemorySegment attr;

    /** A handle whose errno capture is {@code libc}'s and whose attribute block lives in {@code arena}. */
    public Bpf(Libc libc, Arena arena) {
        this.libc = libc;
        this.attr = arena.allocate(ATTR_SIZE, 8);
    }

    public Libc libc() {
        return libc;
    }

    private static long sysBpf() {
        String arch = System.getProperty("os.arch", "");
        return switch (arch) {
            case "amd64", "x86_64" -> 321;
            case "aarch64" -> 280;
            default -> -1;
        };
    }

    private long call(int cmd) {
        if (SYS_BPF < 0) {
            throw new UnsupportedOperationException("bpf(2): no system call number known for "
                    + System.getProperty("os.arch"));
        }
        try {
            return (long) SYSCALL.invokeExact(libc.callState(), SYS_BPF, (long) cmd, attr.address(), (long) ATTR_SIZE);
        } catch (Throwable t) {
            throw Libc.linkageFailure("bpf", t);
        }
    }

    /** BPF_MAP_CREATE: the map's descriptor, or -1 (errno in {@link #libc()}). */
    public int mapCreate(int type, int keySize, int valueSize, int maxEntries, String name) {
        attr.fill((byte) 0);
        attr.set(JAVA_INT, 0, type);
        attr.set(JAVA_INT, 4, keySize);
        attr.set(JAVA_INT, 8, valueSize);
        attr.set(JAVA_INT, 12, maxEntries);
        // map_flags 16, inner_map_fd 20, numa_node 24, map_name[16] at 28
        putName(28, name);
        return (int) call(BPF_MAP_CREATE);
    }

    /** BPF_MAP_UPDATE_ELEM with key and value at native addresses: 0, or -1. */
    public int mapUpdate(int mapFd, long keyAddress, long valueAddress, long flags) {
        mapAttr(mapFd, keyAddress, valueAddress, flags);
        return (int) call(BPF_MAP_UPDATE_ELEM);
    }

    /** BPF_MAP_DELETE_ELEM: 0, or -1 (ENOENT when absent). */
    public int mapDelete(int mapFd, long keyAddress) {
        mapAttr(mapFd, keyAddress, 0, 0);
        return (int) call(BPF_MAP_DELETE_ELEM);
    }

    /** BPF_MAP_LOOKUP_ELEM into {@code valueAddress}: 0, or -1 (ENOENT when absent). */
    public int mapLookup(int mapFd, long keyAddress, long valueAddress) {
        mapAttr(mapFd, keyAddress, valueAddress, 0);
        return (int) call(BPF_MAP_LOOKUP_ELEM);
    }

    /** BPF_MAP_GET_NEXT_KEY: the key after {@code keyAddress} (0: the first) into {@code nextKeyAddress}. */
    public int mapNextKey(int mapFd, long keyAddress, long nextKeyAddress) {
        mapAttr(mapFd, keyAddress, nextKeyAddress, 0);
        return (int) call(BPF_MAP_GET_NEXT_KEY);
    }

    private void mapAttr(int mapFd, long key, long value, long flags) {
        attr.fill((byte) 0);
        attr.set(JAVA_INT, 0, mapFd);
        attr.set(JAVA_LONG, 8, key);
        attr.set(JAVA_LONG, 16, value);
        attr.set(JAVA_LONG, 24, flags);
    }

    /**
     * BPF_PROG_LOAD of {@code insns} (8 bytes each) as {@code progType} under {@code license},
     * the verifier writing its log into {@code log} (log level 1) when that is not null.
     * Returns the program's descriptor, or -1.
     */
    public int progLoad(int progType, MemorySegment insns, String license, String name, MemorySegment log) {
        try (Arena temp = Arena.ofConfined()) {
            MemorySegment lic = temp.allocateFrom(license);
            attr.fill((byte) 0);
            attr.set(JAVA_INT, 0, progType);
            attr.set(JAVA_INT, 4, (int) (insns.byteSize() / 8));
            attr.set(JAVA_LONG, 8, insns.address());
            attr.set(JAVA_LONG, 16, lic.address());
            if (log != null) {
                log.set(JAVA_BYTE, 0, (byte) 0);
                attr.set(JAVA_INT, 24, 1);
                attr.set(JAVA_INT, 28, (int) log.byteSize());
                attr.set(JAVA_LONG, 32, log.address());
            }
            // kern_version 40, prog_flags 44, prog_name[16] at 48
            putName(48, name);
            return (int) call(BPF_PROG_LOAD);
        }
    }

    /**
     * BPF_OBJ_PIN: pins the program, map or link {@code fd} at {@code path} in a BPF file
     * system, where it outlives its descriptors (other tools, iproute2 among them, open it by
     * that path). 0, or -1.
     */
    public int objPin(int fd, String path) {
        try (Arena temp = Arena.ofConfined()) {
            MemorySegment pathname = temp.allocateFrom(path);
            attr.fill((byte) 0);
            attr.set(JAVA_LONG, 0, pathname.address());
            attr.set(JAVA_INT, 8, fd);
            return (int) call(BPF_OBJ_PIN);
        }
    }

    /** BPF_LINK_CREATE: attaches {@code progFd} to {@code targetFdOrIfindex}; the link's descriptor, or -1. */
    public int linkCreate(int progFd, int targetFdOrIfindex, int attachType, int flags) {
        attr.fill((byte) 0);
        attr.set(JAVA_INT, 0, progFd);
        attr.set(JAVA_INT, 4, targetFdOrIfindex);
        attr.set(JAVA_INT, 8, attachType);
        attr.set(JAVA_INT, 12, flags);
        return (int) call(BPF_LINK_CREATE);
    }

    /** BPF_OBJ_GET_INFO_BY_FD into {@code info} ({@link #INFO_SIZE} bytes at most): 0, or -1. */
    public int objInfo(int fd, MemorySegment info) {
        info.fill((byte) 0);
        attr.fill((byte) 0);
        attr.set(JAVA_INT, 0, fd);
        attr.set(JAVA_INT, 4, (int) Math.min(info.byteSize(), INFO_SIZE));
        attr.set(JAVA_LONG, 8, info.address());
        return (int) call(BPF_OBJ_GET_INFO_BY_FD);
    }

    /**
     * BPF_PROG_TEST_RUN: runs the program once over a copy of {@code packet} (for XDP, a frame
     * from its Ethernet header on) and returns its return value (an XDP action), or -1.
     */
    public int progTestRun(int progFd, MemorySegment packet) {
        attr.fill((byte) 0);
        attr.set(JAVA_INT, 0, progFd);
        attr.set(JAVA_INT, 8, (int) packet.byteSize());
        attr.set(JAVA_LONG, 16, packet.address());
        attr.set(JAVA_INT, 32, 1); // repeat
        if (call(BPF_PROG_TEST_RUN) < 0) {
            return -1;
        }
        return attr.get(JAVA_INT, 4);
    }

    /** BPF_PROG_GET_FD_BY_ID: a new descriptor for the loaded program {@code id}, or -1. */
    public int progFdById(int id) {
        attr.fill((byte) 0);
        attr.set(JAVA_INT, 0, id);
        return (int) call(BPF_PROG_GET_FD_BY_ID);
    }

    /** Object names are at most 15 bytes of [A-Za-z0-9_.] plus the NUL. */
    private void putName(long offset, String name) {
        if (name == null) {
            return;
        }
        byte[] b = name.getBytes(StandardCharsets.US_ASCII);
        int n = Math.min(b.length, 15);
        MemorySegment.copy(b, 0, attr, JAVA_BYTE, offset, n);
    }

    /** The NUL-terminated text the verifier wrote into {@code log}. */
    public static String logText(MemorySegment log) {
        return log.getString(0, StandardCharsets.UTF_8);
    }
}
