package io.slipstream.config;

import java.util.List;

/**
 * One {@code slipstream.*} setting, declared once where it is used: its name, default,
 * bounds and unit. Reading it from {@link Settings} checks it and names it in the error.
 * docs/CONFIGURATION.md tables every setting (ConfigurationDocsTest holds the two together).
 */
public sealed interface Setting permits Setting.Whole, Setting.Fraction, Setting.Flag, Setting.Choice {
    /** The property name, {@code slipstream.…}; the environment variable is its upper-case form. */
    String name();

    /** An integer setting in {@code min..max}, in {@code unit} (empty for a count). */
    record Whole(String name, long defaultValue, long min, long max, String unit) implements Setting {
        public Whole {
            if (defaultValue < min || defaultValue > max) {
                throw new IllegalArgumentException(name + ": default " + defaultValue + " outside " + min + ".." + max);
            }
        }

        public long read(Settings s) {
            return s.getLong(name, defaultValue, min, max);
        }

        /** With a default computed from other settings (it need not lie in the bounds the user is held to). */
        public long read(Settings s, long computedDefault) {
            return s.has(name) ? s.getLong(name, defaultValue, min, max) : computedDefault;
        }

        /** For settings whose bounds fit an int. */
        public int readInt(Settings s) {
            return Math.toIntExact(read(s));
        }
    }

    /** A real-valued setting in {@code min..max}, in {@code unit} (empty for a ratio). */
    record Fraction(String name, double defaultValue, double min, double max, String unit) implements Setting {
        public double read(Settings s) {
            return s.getDouble(name, defaultValue, min, max);
        }
    }

    /** A true/false setting. */
    record Flag(String name, boolean defaultValue) implements Setting {
        public boolean read(Settings s) {
            return s.getBoolean(name, defaultValue);
        }
    }

    /** One of a fixed set of words (case-insensitive). */
    record Choice(String name, String defaultValue, List<String> choices) implements Setting {
        public Choice {
            choices = List.copyOf(choices);
            if (!choices.contains(defaultValue)) {
                throw new IllegalArgumentException(name + ": default " + defaultValue + " is not one of " + choices);
            }
        }

        public String read(Settings s) {
            return check(s.get(name, defaultValue));
        }

        /** {@code value} in lower case when it is one of the choices; else a ConfigException naming the setting. */
        public String check(String value) {
            String v = value.trim().toLowerCase(java.util.Locale.ROOT);
            if (!choices.contains(v)) {
                throw new ConfigException(name + ": expected " + String.join(" or ", choices) + ", got '" + value + "'");
            }
            return v;
        }
    }
}
