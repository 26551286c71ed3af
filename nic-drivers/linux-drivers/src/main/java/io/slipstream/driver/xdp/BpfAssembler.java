package io.slipstream.driver.xdp;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Emits eBPF instructions ({@code struct bpf_insn}: u8 opcode, u8 dst:4/src:4, s16 offset,
 * s32 immediate; see the kernel's {@code Documentation/bpf/standardization/instruction-set.rst})
 * with forward jumps to {@link Label}s resolved at {@link #assemble()}. Little-endian hosts
 * only (x86-64, AArch64), where the destination register is the low nibble of byte 1.
 */
final class BpfAssembler {
    // Registers.
    static final int R0 = 0, R1 = 1, R2 = 2, R3 = 3, R4 = 4, R5 = 5, R6 = 6, R7 = 7, R8 = 8, R9 = 9;
    /** The read-only frame pointer. */
    static final int FP = 10;

    // Instruction classes.
    static final int CLASS_LD = 0x00, CLASS_LDX = 0x01, CLASS_ST = 0x02, CLASS_STX = 0x03;
    static final int CLASS_ALU = 0x04, CLASS_JMP = 0x05, CLASS_ALU64 = 0x07;
    // Sizes.
    static final int SIZE_W = 0x00, SIZE_H = 0x08, SIZE_B = 0x10, SIZE_DW = 0x18;
    // Modes.
    static final int MODE_IMM = 0x00, MODE_MEM = 0x60;
    // Operand source.
    static final int SRC_K = 0x00, SRC_X = 0x08;
    // ALU operations.
    static final int ADD = 0x00, SUB = 0x10, OR = 0x40, AND = 0x50, LSH = 0x60, RSH = 0x70, MOV = 0xb0, END = 0xd0;
    // Jump operations.
    static final int JA = 0x00, JEQ = 0x10, JGT = 0x20, JGE = 0x30, JNE = 0x50, JLT = 0xa0, CALL = 0x80, EXIT = 0x90;
    /** BPF_END source bit: convert to big-endian (a byte swap on this host). */
    static final int TO_BE = 0x08;
    /** src_reg of an ld_imm64 whose immediate is a map descriptor. */
    static final int PSEUDO_MAP_FD = 1;

    /** A jump target; bound once, referenced any number of times before or after. */
    static final class Label {
        private int target = -1;
    }

    private record Fixup(int insn, Label label) {}

    private long[] insns = new long[64];
    private int count;
    private final List<Fixup> fixups = new ArrayList<>();

    static long encode(int opcode, int dst, int src, int offset, int imm) {
        if (dst < 0 || dst > FP || src < 0 || src > FP) {
            throw new IllegalArgumentException("registers are r0..r10, got dst=" + dst + " src=" + src);
        }
        if (offset < Short.MIN_VALUE || offset > Short.MAX_VALUE) {
            throw new IllegalArgumentException("offset " + offset + " does not fit 16 bits");
        }
        return (opcode & 0xffL) | (long) (dst | src << 4) << 8 | (offset & 0xffffL) << 16 | (imm & 0xffffffffL) << 32;
    }

    private void emit(int opcode, int dst, int src, int offset, int imm) {
        if (count == insns.length) {
            insns = Arrays.copyOf(insns, count * 2);
        }
        insns[count++] = encode(opcode, dst, src, offset, imm);
    }

    /** Instructions so far (an ld_imm64 counts two). */
    int size() {
        return count;
    }

    Label label() {
        return new Label();
    }

    /** The next instruction is {@code l}'s target. */
    void bind(Label l) {
        if (l.target >= 0) {
            throw new IllegalStateException("label bound twice");
        }
        l.target = count;
    }

    void mov(int dst, int imm) {
        emit(CLASS_ALU64 | MOV | SRC_K, dst, 0, 0, imm);
    }

    void movReg(int dst, int src) {
        emit(CLASS_ALU64 | MOV | SRC_X, dst, src, 0, 0);
    }

    /** 64-bit {@code dst op= imm} (ADD, AND, LSH, RSH, ...). */
    void alu(int op, int dst, int imm) {
        emit(CLASS_ALU64 | op | SRC_K, dst, 0, 0, imm);
    }

    /** 64-bit {@code dst op= src}. */
    void aluReg(int op, int dst, int src) {
        emit(CLASS_ALU64 | op | SRC_X, dst, src, 0, 0);
    }

    /** Byte-swaps the low {@code bits} (16, 32, 64) of {@code dst} from network order, zeroing the rest. */
    void fromBigEndian(int dst, int bits) {
        emit(CLASS_ALU | END | TO_BE, dst, 0, 0, bits);
    }

    /** {@code dst = *(size *)(src + offset)}. */
    void load(int size, int dst, int src, int offset) {
        emit(CLASS_LDX | size | MODE_MEM, dst, src, offset, 0);
    }

    /** {@code *(size *)(dst + offset) = src}. */
    void store(int size, int dst, int offset, int src) {
        emit(CLASS_STX | size | MODE_MEM, dst, src, offset, 0);
    }

    /** {@code *(size *)(dst + offset) = imm}. */
    void storeImm(int size, int dst, int offset, int imm) {
        emit(CLASS_ST | size | MODE_MEM, dst, 0, offset, imm);
    }

    /** ld_imm64 of a map descriptor, which the kernel turns into the map's address. */
    void loadMap(int dst, int mapFd) {
        emit(CLASS_LD | SIZE_DW | MODE_IMM, dst, PSEUDO_MAP_FD, 0, mapFd);
        emit(0, 0, 0, 0, 0);
    }

    /** {@code if (dst op imm) goto target} (64-bit compare). */
    void jump(int op, int dst, int imm, Label target) {
        fixups.add(new Fixup(count, target));
        emit(CLASS_JMP | op | SRC_K, dst, 0, 0, imm);
    }

    /** {@code if (dst op src) goto target}. */
    void jumpReg(int op, int dst, int src, Label target) {
        fixups.add(new Fixup(count, target));
        emit(CLASS_JMP | op | SRC_X, dst, src, 0, 0);
    }

    void jump(Label target) {
        fixups.add(new Fixup(count, target));
        emit(CLASS_JMP | JA, 0, 0, 0, 0);
    }

    /** Calls helper number {@code helper}: arguments in r1..r5, result in r0, r1..r5 clobbered. */
    void call(int helper) {
        emit(CLASS_JMP | CALL, 0, 0, 0, helper);
    }

    void exit() {
        emit(CLASS_JMP | EXIT, 0, 0, 0, 0);
    }

    /** The instructions with every jump resolved. */
    long[] assemble() {
        long[] out = Arrays.copyOf(insns, count);
        for (Fixup f : fixups) {
            if (f.label.target < 0) {
                throw new IllegalStateException("jump at " + f.insn + " to a label never bound");
            }
            int delta = f.label.target - (f.insn + 1);
            out[f.insn] = (out[f.insn] & ~(0xffffL << 16)) | (delta & 0xffffL) << 16;
        }
        return out;
    }

    /** The instructions as the bytes bpf(2) reads, in {@code arena}. */
    static MemorySegment toMemory(long[] insns, Arena arena) {
        MemorySegment m = arena.allocate((long) insns.length * 8, 8);
        for (int i = 0; i < insns.length; i++) {
            m.set(ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), i * 8L, insns[i]);
        }
        return m;
    }
}
