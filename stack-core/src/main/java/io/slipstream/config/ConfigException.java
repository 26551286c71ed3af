package io.slipstream.config;

/** A setting is missing or malformed. The message names the property and the expected form. */
public final class ConfigException extends IllegalArgumentException {
    public ConfigException(String message) {
        super(message);
    }

    public ConfigException(String message, Throwable cause) {
        super(message, cause);
    }

    /** A required setting is absent: names it, its environment variable and the form it takes. */
    static ConfigException missing(String property, String expected) {
        return new ConfigException(property + " (or " + Settings.environmentName(property) + ") is required: expected "
                + expected);
    }

    static ConfigException malformed(String property, String expected, String got) {
        return new ConfigException(property + ": expected " + expected + ", got '" + got + "'");
    }
}
