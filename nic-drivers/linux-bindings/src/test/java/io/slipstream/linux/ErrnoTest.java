package io.slipstream.linux;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class ErrnoTest {

    @Test
    void namesFollowTheLinuxNumbering() {
        assertEquals("EPERM", Errno.name(Errno.EPERM));
        assertEquals("EAGAIN", Errno.name(11));
        assertEquals("EINVAL", Errno.name(22));
        assertEquals("ELOOP", Errno.name(40));
        assertEquals("ENOMSG", Errno.name(42));
        assertEquals("EBFONT", Errno.name(59));
        assertEquals("EBADFD", Errno.name(Errno.EBADFD));
        assertEquals("EMSGSIZE", Errno.name(Errno.EMSGSIZE));
        assertEquals("ENOBUFS", Errno.name(Errno.ENOBUFS));
        assertEquals("EINPROGRESS", Errno.name(115));
        assertEquals("EHWPOISON", Errno.name(133));
    }

    @Test
    void unknownNumbersStillReadWell() {
        assertEquals("errno 0", Errno.name(0));
        assertEquals("errno 41", Errno.name(41));
        assertEquals("errno 9999", Errno.name(9999));
        assertEquals("errno -3", Errno.name(-3));
    }

    @Test
    void describeAddsTheCLibrarysText() {
        assertEquals("EPERM (Operation not permitted)", Errno.describe(Errno.EPERM));
        assertEquals("EBUSY (Device or resource busy)", Errno.describe(Errno.EBUSY));
    }
}
