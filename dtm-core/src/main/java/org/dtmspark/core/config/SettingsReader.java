package org.dtmspark.core.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import java.util.List;

/**
 * Reads typed values under a prefix and validates them, producing messages that name the full key,
 * the value and the rule: {@code "pretrain.train.epochs must be at least 1, cannot be: 0"}.
 */
public final class SettingsReader {
  private final Config config;
  private final String prefix;

  public SettingsReader(Config config, String prefix) {
    this.config = config;
    this.prefix = prefix.isEmpty() || prefix.endsWith(".") ? prefix : prefix + ".";
  }

  /** A reader for the sub-section {@code name}. */
  public SettingsReader section(String name) {
    return new SettingsReader(config, prefix + name);
  }

  private String key(String name) {
    return prefix + name;
  }

  public String string(String name) {
    try {
      return config.getString(key(name));
    } catch (ConfigException e) {
      throw new ConfigError(key(name) + ": " + e.getMessage());
    }
  }

  public String oneOf(String name, List<String> allowed) {
    String value = string(name);
    if (!allowed.contains(value)) {
      throw new ConfigError(key(name) + " must be one of " + allowed + ", cannot be: " + value);
    }
    return value;
  }

  public boolean bool(String name) {
    try {
      return config.getBoolean(key(name));
    } catch (ConfigException e) {
      throw new ConfigError(key(name) + " must be true or false: " + e.getMessage());
    }
  }

  public long longAtLeast(String name, long min) {
    long value;
    try {
      value = config.getLong(key(name));
    } catch (ConfigException e) {
      throw new ConfigError(key(name) + " must be an integer: " + e.getMessage());
    }
    if (value < min) {
      throw new ConfigError(key(name) + " must be at least " + min + ", cannot be: " + value);
    }
    return value;
  }

  public int intAtLeast(String name, int min) {
    long value = longAtLeast(name, min);
    if (value > Integer.MAX_VALUE) {
      throw new ConfigError(key(name) + " is too large, cannot be: " + value);
    }
    return (int) value;
  }

  public double number(String name) {
    try {
      return config.getDouble(key(name));
    } catch (ConfigException e) {
      throw new ConfigError(key(name) + " must be a number: " + e.getMessage());
    }
  }

  /** A number in {@code [min, max]}. */
  public double numberIn(String name, double min, double max) {
    double value = number(name);
    if (!(value >= min && value <= max)) {
      throw new ConfigError(
          key(name) + " must be in [" + min + ", " + max + "], cannot be: " + value);
    }
    return value;
  }

  /** A number in {@code [min, max)}. */
  public double numberInHalfOpen(String name, double min, double max) {
    double value = number(name);
    if (!(value >= min && value < max)) {
      throw new ConfigError(
          key(name) + " must be in [" + min + ", " + max + "), cannot be: " + value);
    }
    return value;
  }

  public double positive(String name) {
    double value = number(name);
    if (!(value > 0)) {
      throw new ConfigError(key(name) + " must be positive, cannot be: " + value);
    }
    return value;
  }

  public double nonNegative(String name) {
    double value = number(name);
    if (!(value >= 0)) {
      throw new ConfigError(key(name) + " must be at least 0, cannot be: " + value);
    }
    return value;
  }
}
