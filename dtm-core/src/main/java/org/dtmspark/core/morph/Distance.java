package org.dtmspark.core.morph;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/** Distance between an online and a target (morphed) token, computed per token. */
public enum Distance {
  /** {@code 1 - cos(u, v)}, with norms clamped below at 1e-8 as torch's cosine similarity. */
  COSINE("cosine"),
  /** Mean over the feature dimension of torch's smooth-L1 with a configurable beta. */
  SMOOTH_L1("smooth_l1"),
  /** Mean over the feature dimension of {@code |u - v|}. */
  L1("l1"),
  /** Mean over the feature dimension of {@code (u - v)^2}. */
  L2("l2");

  private final String configName;

  Distance(String configName) {
    this.configName = configName;
  }

  /** The name used in configs: {@code cosine}, {@code smooth_l1}, {@code l1} or {@code l2}. */
  public String configName() {
    return configName;
  }

  /**
   * Parses a config name (case-insensitive, surrounding blanks ignored).
   *
   * @throws IllegalArgumentException naming the text and the valid names
   */
  public static Distance parse(String name) {
    if (name != null) {
      String key = name.trim().toLowerCase(Locale.ROOT);
      for (Distance d : values()) {
        if (d.configName.equals(key)) {
          return d;
        }
      }
    }
    throw new IllegalArgumentException(
        "Distance must be one of ["
            + Arrays.stream(values()).map(Distance::configName).collect(Collectors.joining(", "))
            + "], cannot be: "
            + name);
  }

  @Override
  public String toString() {
    return configName;
  }
}
