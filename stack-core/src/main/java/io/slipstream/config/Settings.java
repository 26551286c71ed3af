package io.slipstream.config;

import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.function.Function;

/**
 * Where settings come from: {@code slipstream.*} system properties first, then the matching
 * environment variables ({@code slipstream.poll.usec} ↔ {@code SLIPSTREAM_POLL_USEC}).
 * Typed getters fail with a {@link ConfigException} that names the property.
 */
public final class Settings {
    public static final String PREFIX = "slipstream.";

    private final Map<String, String> values;

    private Settings(Map<String, String> values) {
        this.values = Map.copyOf(values);
    }

    /** The process's settings: system properties over environment. */
    public static Settings fromSystem() {
        return from(System.getProperties(), System.getenv());
    }

    public static Settings from(Properties properties, Map<String, String> environment) {
        Map<String, String> v = new HashMap<>();
        environment.forEach((k, val) -> {
            if (k.startsWith("SLIPSTREAM_")) {
                v.put(propertyName(k), val);
            }
        });
        for (String name : properties.stringPropertyNames()) {
            if (name.startsWith(PREFIX)) {
                v.put(name, properties.getProperty(name));
            }
        }
        return new Settings(v);
    }

    public static Settings of(Map<String, String> properties) {
        Map<String, String> v = new HashMap<>();
        properties.forEach((k, val) -> v.put(k.startsWith(PREFIX) ? k : PREFIX + k, val));
        return new Settings(v);
    }

    /** {@code SLIPSTREAM_POLL_USEC} → {@code slipstream.poll.usec}. */
    static String propertyName(String envName) {
        return envName.toLowerCase(Locale.ROOT).replace('_', '.');
    }

    /** {@code slipstream.poll.usec} → {@code SLIPSTREAM_POLL_USEC}. */
    public static String environmentName(String property) {
        return property.toUpperCase(Locale.ROOT).replace('.', '_');
    }

    public boolean has(String property) {
        String v = values.get(property);
        return v != null && !v.isBlank();
    }

    public String get(String property, String dflt) {
        String v = values.get(property);
        return v == null || v.isBlank() ? dflt : v.trim();
    }

    public String require(String property, String expected) {
        String v = get(property, null);
        if (v == null) {
            throw ConfigException.missing(property, expected);
        }
        return v;
    }

    public <T> T parse(String property, String expected, T dflt, Function<String, T> parser) {
        String v = get(property, null);
        if (v == null) {
            return dflt;
        }
        try {
            return parser.apply(v);
        } catch (RuntimeException e) {
            throw new ConfigException(property + ": expected " + expected + ", got '" + v + "'", e);
        }
    }

    public long getLong(String property, long dflt, long min, long max) {
        long v = parse(property, "an integer in " + min + ".." + max, dflt, Long::parseLong);
        if (v < min || v > max) {
            throw ConfigException.malformed(property, "an integer in " + min + ".." + max, Long.toString(v));
        }
        return v;
    }

    public int getInt(String property, int dflt, int min, int max) {
        return (int) getLong(property, dflt, min, max);
    }

    public double getDouble(String property, double dflt, double min, double max) {
        double v = parse(property, "a number in " + min + ".." + max, dflt, Double::parseDouble);
        if (!(v >= min && v <= max)) {
            throw ConfigException.malformed(property, "a number in " + min + ".." + max, Double.toString(v));
        }
        return v;
    }

    public boolean getBoolean(String property, boolean dflt) {
        return parse(property, "true or false", dflt, s -> switch (s.toLowerCase(Locale.ROOT)) {
            case "true" -> true;
            case "false" -> false;
            default -> throw new IllegalArgumentException(s);
        });
    }

    /** Every {@code slipstream.*} setting, for driver-specific options. */
    public Map<String, String> asMap() {
        return values;
    }
}
