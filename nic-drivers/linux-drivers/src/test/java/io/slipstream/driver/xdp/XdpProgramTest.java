package io.slipstream.driver.xdp;

import static io.slipstream.driver.xdp.BpfAssembler.R0;
import static io.slipstream.driver.xdp.BpfAssembler.R1;
import static io.slipstream.driver.xdp.BpfAssembler.R2;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.slipstream.linux.Bpf;
import io.slipstream.linux.Errno;
import io.slipstream.linux.Libc;
import io.slipstream.testing.NetNs;
import java.lang.foreign.Arena;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/** The assembler's encoding, and the program as the kernel's verifier judges it. */
class XdpProgramTest {

    @Test
    void instructionsAreEncodedAsTheKernelLaysThemOut() {
        // r0 = 2 (BPF_ALU64 | BPF_MOV | BPF_K = 0xb7)
        assertEquals(0x00000002_0000_00b7L, BpfAssembler.encode(0xb7, R0, 0, 0, 2));
        // r2 = *(u32 *)(r1 + 4): BPF_LDX | BPF_W | BPF_MEM = 0x61, dst in the low nibble, src in the high
        assertEquals(0x00000000_0004_1261L, BpfAssembler.encode(0x61, R2, R1, 4, 0));
        // a negative offset and immediate are two's complement in their fields
        assertEquals(0xffffffff_fff0_0a72L, BpfAssembler.encode(0x72, 10, 0, -16, -1));
    }

    @Test
    void jumpsAreRelativeToTheNextInstructionAndLdImm64TakesTwoSlots() {
        BpfAssembler a = new BpfAssembler();
        BpfAssembler.Label end = a.label();
        a.jump(BpfAssembler.JEQ, R1, 7, end); // 0
        a.loadMap(R1, 42);                    // 1, 2
        a.bind(end);
        a.exit();                             // 3
        long[] code = a.assemble();
        assertEquals(4, code.length);
        assertEquals(2, (short) (code[0] >>> 16), "skips both halves of the ld_imm64");
        assertEquals(0x18, code[1] & 0xff, "BPF_LD | BPF_DW | BPF_IMM");
        assertEquals(BpfAssembler.PSEUDO_MAP_FD, (code[1] >>> 12) & 0xf, "src_reg marks a map descriptor");
        assertEquals(42, (int) (code[1] >>> 32));
        assertEquals(0, code[2]);
    }

    @Test
    void registersAndOffsetsOutOfRangeAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> BpfAssembler.encode(0xb7, 11, 0, 0, 0));
        assertThrows(IllegalArgumentException.class, () -> BpfAssembler.encode(0x61, 0, 1, 40000, 0));
        BpfAssembler a = new BpfAssembler();
        a.jump(a.label());
        assertThrows(IllegalStateException.class, a::assemble);
    }

    @Test
    void theVerifierAcceptsTheSteeringProgram() {
        assumeRoot();
        try (XdpSteering steering = XdpSteering.load("test", XdpNamespace.OWN, 1, 4, 64, 16)) {
            assertTrue(steering.programFd() >= 0);
        }
    }

    @Test
    void aRefusedProgramReportsTheVerifierLog() {
        assumeRoot();
        BpfAssembler a = new BpfAssembler();
        a.load(BpfAssembler.SIZE_W, R2, R1, 0); // r2 = data
        a.load(BpfAssembler.SIZE_B, R0, R2, 0); // reads a packet byte with no bounds check
        a.exit();
        try (Arena arena = Arena.ofConfined()) {
            Bpf bpf = new Bpf(new Libc(arena), arena);
            BpfException e = assertThrows(BpfException.class, () -> XdpProgram.load(bpf, a.assemble(), "bad"));
            assertEquals(Errno.EACCES, e.errno(), e.getMessage());
            assertTrue(e.getMessage().contains("verifier log:"), e.getMessage());
            assertTrue(e.getMessage().contains("invalid access to packet"), e.getMessage());
        }
    }

    static void assumeRoot() {
        Assumptions.assumeTrue(NetNs.isRoot(), "bpf(2) needs root (CAP_BPF, CAP_NET_ADMIN): skipped");
    }
}
