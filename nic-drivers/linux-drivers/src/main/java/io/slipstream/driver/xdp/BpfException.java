package io.slipstream.driver.xdp;

import io.slipstream.linux.Errno;
import io.slipstream.nic.NicException;

/**
 * A bpf(2) command failed; {@link #errno()} says why, the message what was being done. EPERM
 * is {@link Kind#NOT_PERMITTED} (a missing capability, or a security module's refusal), anything
 * else {@link Kind#FAILED} (EACCES included: it is how the verifier rejects a program).
 */
public final class BpfException extends NicException {
    private final int errno;

    public BpfException(String message, int errno) {
        super(errno == Errno.EPERM ? Kind.NOT_PERMITTED : Kind.FAILED, message);
        this.errno = errno;
    }

    public int errno() {
        return errno;
    }
}
