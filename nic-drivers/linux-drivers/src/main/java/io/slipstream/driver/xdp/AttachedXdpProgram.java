package io.slipstream.driver.xdp;

import io.slipstream.linux.Bpf;
import io.slipstream.linux.Libc;
import io.slipstream.linux.Netlink;
import io.slipstream.linux.Rtnetlink;
import io.slipstream.nic.NicException;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * An XDP program some other tool (or another Slipstream process) has attached to an interface,
 * which Slipstream never replaces: what it is and how its owner can remove it, so that the
 * refusal says so in one line. Read from the kernel: the program's id and mode from the link's
 * IFLA_XDP (rtnetlink), its name from bpf(2), and, when it is attached through a BPF link, the
 * process holding that link from {@code /proc/PID/fdinfo}. Only on the failure path.
 *
 * @param programId the program's id (as {@code bpftool prog show} and {@code ip link} print it)
 * @param attached how it runs: {@link Rtnetlink#XDP_ATTACHED_DRV} and the others
 * @param name the program's name, or null when the kernel would not say (it takes CAP_SYS_ADMIN)
 * @param holder the process that holds the BPF link attaching it ("1234 (java)"), or null when
 *     it was attached through netlink ({@code ip link set dev IF xdp ...}, libxdp) or by a
 *     pinned link
 */
record AttachedXdpProgram(int programId, int attached, String name, String holder) {
    /** How long to wait for the kernel's answer about the link. */
    private static final int NETLINK_TIMEOUT_MILLIS = 1000;
    private static final int REPLY_BYTES = 64 * 1024;
    /** struct bpf_prog_info: char name[BPF_OBJ_NAME_LEN] at this offset. */
    private static final int PROG_INFO_NAME = 64;
    private static final int OBJ_NAME_LEN = 16;

    /** What is attached to {@code ifindex}, or null when nothing is (or the kernel would not say). */
    static AttachedXdpProgram find(int ifindex) {
        try (Arena arena = Arena.ofConfined()) {
            Libc libc = new Libc(arena);
            Rtnetlink.XdpAttachment a = query(libc, arena, ifindex);
            if (a == null || a.attached() == Rtnetlink.XDP_ATTACHED_NONE) {
                return null;
            }
            return new AttachedXdpProgram(a.programId(), a.attached(), name(new Bpf(libc, arena), a.programId()),
                    holder(a.programId()));
        }
    }

    /**
     * The error for an interface that runs a program Slipstream will not replace: the
     * description of {@code found} (null: the kernel refused the attach with {@code detail} and
     * the program could not be identified).
     */
    static NicException refusal(String ifname, AttachedXdpProgram found, String detail) {
        String what = found == null ? " (" + detail + ")" : ": " + found.describe();
        String remedy = found == null ? "see `ip link show dev " + ifname + "`" : found.remedy(ifname);
        return new NicException(NicException.Kind.BUSY, "xdp " + ifname + ": another XDP program is already attached to the interface"
                + what + "; Slipstream never replaces a program another tool attached: " + remedy + ", or use another interface");
    }

    /** "'xdp_pass' (program id 42, generic mode), through a BPF link held by process 1234 (java)". */
    String describe() {
        return (name == null ? "program" : "'" + name + "'") + " (program id " + programId + ", " + modeText() + ")"
                + (holder == null ? "" : ", through a BPF link held by process " + holder);
    }

    /** How its owner removes it. */
    String remedy(String ifname) {
        if (holder != null) {
            return "end process " + holder.substring(0, holder.indexOf(' ')) + " (its link goes with it)";
        }
        if ("xdp_dispatcher".equals(name)) { // libxdp's, which xdp-loader and xdp-tools attach
            return "unload it with `xdp-loader unload " + ifname + " --all`";
        }
        String keyword = switch (attached) {
            case Rtnetlink.XDP_ATTACHED_DRV -> "xdpdrv";
            case Rtnetlink.XDP_ATTACHED_SKB -> "xdpgeneric";
            case Rtnetlink.XDP_ATTACHED_HW -> "xdpoffload";
            default -> "xdp";
        };
        return "detach it with `ip link set dev " + ifname + " " + keyword + " off`";
    }

    private String modeText() {
        return switch (attached) {
            case Rtnetlink.XDP_ATTACHED_DRV -> "native mode";
            case Rtnetlink.XDP_ATTACHED_SKB -> "generic mode";
            case Rtnetlink.XDP_ATTACHED_HW -> "offloaded";
            default -> "several modes";
        };
    }

    /** RTM_GETLINK for the one link: its IFLA_XDP, or null. */
    private static Rtnetlink.XdpAttachment query(Libc libc, Arena arena, int ifindex) {
        Netlink socket;
        try {
            socket = Netlink.openRoute(libc, 0, 0);
        } catch (IOException e) {
            return null;
        }
        try {
            MemorySegment request = arena.allocate(Rtnetlink.MAX_REQUEST, 8);
            int length = Rtnetlink.linkRequest(request, 0, 1, ifindex);
            if (socket.send(libc, request.address(), length) != length) {
                return null;
            }
            MemorySegment fds = Libc.pollFds(arena, 1);
            Libc.setPollFd(fds, 0, socket.fd(), Libc.POLLIN);
            if (libc.poll(fds, 1, NETLINK_TIMEOUT_MILLIS) <= 0) {
                return null;
            }
            MemorySegment reply = arena.allocate(REPLY_BYTES, 8);
            long n = socket.receive(libc, reply.address(), REPLY_BYTES);
            return n <= 0 || n > REPLY_BYTES ? null : Rtnetlink.xdpAttachment(reply, 0, n);
        } finally {
            socket.close(libc);
        }
    }

    /** The loaded program's name (BPF_PROG_GET_FD_BY_ID, BPF_OBJ_GET_INFO_BY_FD), or null. */
    private static String name(Bpf bpf, int programId) {
        if (programId == 0) {
            return null;
        }
        int fd = bpf.progFdById(programId);
        if (fd < 0) {
            return null;
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment info = arena.allocate(Bpf.INFO_SIZE, 8);
            if (bpf.objInfo(fd, info) < 0) {
                return null;
            }
            String name = info.asSlice(PROG_INFO_NAME, OBJ_NAME_LEN).getString(0, StandardCharsets.US_ASCII);
            return name.isEmpty() ? null : name;
        } finally {
            bpf.libc().close(fd);
        }
    }

    /**
     * The process holding an XDP BPF link to {@code programId}, as "PID (command)", or null:
     * each process's descriptors that are BPF links, read from procfs (as bpftool does without
     * its BPF iterator). Processes that end or deny access meanwhile are passed over.
     */
    static String holder(int programId) {
        if (programId == 0) {
            return null;
        }
        String wanted = "prog_id:\t" + programId;
        try (DirectoryStream<Path> processes = Files.newDirectoryStream(Path.of("/proc"), p -> isNumber(p.getFileName()))) {
            for (Path process : processes) {
                if (holdsLinkTo(process, wanted)) {
                    return process.getFileName() + " (" + command(process) + ")";
                }
            }
        } catch (IOException | SecurityException e) {
            return null;
        }
        return null;
    }

    private static boolean holdsLinkTo(Path process, String wantedProgram) {
        try (DirectoryStream<Path> fds = Files.newDirectoryStream(process.resolve("fd"))) {
            for (Path fd : fds) {
                try {
                    if (!Files.readSymbolicLink(fd).toString().equals("anon_inode:bpf_link")) {
                        continue;
                    }
                    String info = Files.readString(process.resolve("fdinfo").resolve(fd.getFileName()));
                    if (info.contains("link_type:\txdp") && info.lines().anyMatch(wantedProgram::equals)) {
                        return true;
                    }
                } catch (IOException e) {
                    // closed since the listing: not it
                }
            }
        } catch (IOException e) {
            // ended, or not ours to read
        }
        return false;
    }

    private static String command(Path process) {
        try {
            return Files.readString(process.resolve("comm")).strip();
        } catch (IOException e) {
            return "?";
        }
    }

    private static boolean isNumber(Path name) {
        String s = name.toString();
        return !s.isEmpty() && s.chars().allMatch(Character::isDigit);
    }
}
