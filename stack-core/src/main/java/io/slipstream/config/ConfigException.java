package io.slipstream.config;

/** A setting is missing or malformed. The message names the property and the expected form. */
public final class ConfigException extends IllegalArgumentException {
    public ConfigException(String message) {
        super(message);
    }

    public ConfigException(String message, Throwable cause) {
        super(message, cause);
    }

    static ConfigException malformed(String property, String expected, String got) {
        return new ConfigException(property + ": expected " + expected + ", got '" + got + "'");
    }
}
