package io.slipstream.driver.xdp;

import io.slipstream.nic.NicException;

/** A bpf(2) command failed; {@link #errno()} says why, the message what was being done. */
public final class BpfException extends NicException {
    private final int errno;

    public BpfException(String message, int errno) {
        super(message);
        this.errno = errno;
    }

    public int errno() {
        return errno;
    }
}
