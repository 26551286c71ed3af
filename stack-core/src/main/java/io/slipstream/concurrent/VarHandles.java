package io.slipstream.concurrent;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * The {@link VarHandle} of a field, for classes that give one field acquire/release or CAS
 * access. Call it from a static initializer with the class's own {@code MethodHandles.lookup()}
 * (it grants access to the private field).
 */
public final class VarHandles {
    private VarHandles() {}

    /**
     * The handle of the field {@code name} of type {@code type} in the lookup's class. A field
     * that is not there is a bug in that class, so it fails the class's initialization.
     */
    public static VarHandle field(MethodHandles.Lookup lookup, String name, Class<?> type) {
        try {
            return lookup.findVarHandle(lookup.lookupClass(), name, type);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }
}
