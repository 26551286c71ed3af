package io.slipstream.tcp;

/** Sequence-number comparisons modulo 2^32 (RFC 9293 §3.4). */
final class Seq {
    private Seq() {}

    static boolean lt(int a, int b) {
        return a - b < 0;
    }

    static boolean le(int a, int b) {
        return a - b <= 0;
    }

    static boolean gt(int a, int b) {
        return a - b > 0;
    }

    static boolean ge(int a, int b) {
        return a - b >= 0;
    }

    static int max(int a, int b) {
        return gt(a, b) ? a : b;
    }

    static int min(int a, int b) {
        return lt(a, b) ? a : b;
    }

    /** a ≤ x < b. */
    static boolean inRange(int x, int a, int b) {
        return le(a, x) && lt(x, b);
    }
}
