package org.dtmspark.core.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigParseOptions;
import com.typesafe.config.ConfigRenderOptions;
import com.typesafe.config.ConfigValue;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Loads the effective configuration: {@code --set key=value} overrides over {@code --config} files
 * (later files win) over the defaults in {@code dtm-reference.conf}. This is the one place that
 * precedence is decided.
 *
 * <p>Every key a user gives must exist in the defaults: an unknown key is an error that names the
 * key, where it came from, and the closest known key.
 */
public final class ConfigLoader {
  /** Classpath resource holding every key with its default and description. */
  public static final String REFERENCE = "dtm-reference.conf";

  private ConfigLoader() {}

  /** The defaults alone. */
  public static Config reference() {
    return ConfigFactory.parseResources(
            ConfigLoader.class.getClassLoader(),
            REFERENCE,
            ConfigParseOptions.defaults().setAllowMissing(false))
        .resolve();
  }

  /**
   * Loads and validates the effective configuration.
   *
   * @param files HOCON files, lowest precedence first
   * @param overrides {@code key=value} strings, highest precedence, later ones win
   * @throws ConfigError naming the file, override or key at fault
   */
  public static Config load(List<Path> files, List<String> overrides) {
    return load(ConfigFactory.empty(), files, overrides);
  }

  /**
   * Loads like {@link #load(List, List)} with {@code base} (for example a file shipped on the
   * classpath, see {@link #resource}) between the defaults and the files.
   */
  public static Config load(Config base, List<Path> files, List<String> overrides) {
    Config reference = reference();
    checkKnown(base, reference, "base configuration " + base.origin().description());
    Config merged = base;
    for (Path file : files) {
      if (!Files.isRegularFile(file)) {
        throw new ConfigError("Configuration file does not exist: " + file);
      }
      Config parsed;
      try {
        parsed = ConfigFactory.parseFile(file.toFile(), ConfigParseOptions.defaults());
      } catch (ConfigException e) {
        throw new ConfigError("Cannot parse configuration file " + file + ": " + e.getMessage());
      }
      checkKnown(parsed, reference, "file " + file);
      merged = parsed.withFallback(merged);
    }
    for (String override : overrides) {
      Config parsed = parseOverride(override);
      checkKnown(parsed, reference, "--set " + override);
      merged = parsed.withFallback(merged);
    }
    try {
      return merged.withFallback(reference).resolve();
    } catch (ConfigException e) {
      throw new ConfigError("Cannot resolve configuration: " + e.getMessage());
    }
  }

  /** Parses a configuration file shipped on the classpath, e.g. {@code conf/demo.conf}. */
  public static Config resource(String name) {
    try {
      return ConfigFactory.parseResources(
          ConfigLoader.class.getClassLoader(),
          name,
          ConfigParseOptions.defaults().setAllowMissing(false));
    } catch (ConfigException e) {
      throw new ConfigError("Cannot read configuration resource " + name + ": " + e.getMessage());
    }
  }

  /** Parses one {@code key=value} override. */
  static Config parseOverride(String override) {
    int eq = override.indexOf('=');
    if (eq <= 0) {
      throw new ConfigError("Override must have the form key=value, cannot be: " + override);
    }
    String key = override.substring(0, eq).trim();
    String value = override.substring(eq + 1).trim();
    try {
      return ConfigFactory.parseString(key + " = " + value);
    } catch (ConfigException e) {
      try {
        // Unquoted strings with characters HOCON reserves (paths, URIs) are taken literally.
        return ConfigFactory.parseMap(Map.of(key, value), "--set " + override);
      } catch (ConfigException e2) {
        throw new ConfigError("Cannot parse override " + override + ": " + e.getMessage());
      }
    }
  }

  private static void checkKnown(Config given, Config reference, String source) {
    for (Map.Entry<String, ConfigValue> entry : given.entrySet()) {
      String key = entry.getKey();
      if (!reference.hasPathOrNull(key)) {
        throw new ConfigError(
            "Unknown configuration key '"
                + key
                + "' in "
                + source
                + closestHint(key, knownKeys(reference)));
      }
    }
  }

  /** Every leaf key of {@code config}, sorted. */
  public static Set<String> knownKeys(Config config) {
    Set<String> keys = new TreeSet<>();
    for (Map.Entry<String, ConfigValue> e : config.entrySet()) {
      keys.add(e.getKey());
    }
    return keys;
  }

  private static String closestHint(String key, Set<String> known) {
    List<String> candidates = new ArrayList<>(known);
    candidates.sort(Comparator.comparingInt(k -> editDistance(k, key)));
    if (candidates.isEmpty()
        || editDistance(candidates.get(0), key) > Math.max(3, key.length() / 3)) {
      return "";
    }
    return "; did you mean '" + candidates.get(0) + "'?";
  }

  static int editDistance(String a, String b) {
    int[] prev = new int[b.length() + 1];
    int[] cur = new int[b.length() + 1];
    for (int j = 0; j <= b.length(); j++) {
      prev[j] = j;
    }
    for (int i = 1; i <= a.length(); i++) {
      cur[0] = i;
      for (int j = 1; j <= b.length(); j++) {
        int sub = prev[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
        cur[j] = Math.min(sub, Math.min(prev[j] + 1, cur[j - 1] + 1));
      }
      int[] t = prev;
      prev = cur;
      cur = t;
    }
    return prev[b.length()];
  }

  /** Renders a configuration as HOCON for logs, without comments or origins. */
  public static String render(Config config) {
    return config
        .root()
        .render(ConfigRenderOptions.defaults().setComments(false).setOriginComments(false));
  }
}
