package org.dtmspark.core.config;

/** A configuration mistake: the message names the key or source and the offending value. */
public final class ConfigError extends IllegalArgumentException {
  public ConfigError(String message) {
    super(message);
  }
}
