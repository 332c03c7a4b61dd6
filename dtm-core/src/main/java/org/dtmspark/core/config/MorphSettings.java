package org.dtmspark.core.config;

import java.util.List;
import org.dtmspark.core.morph.Distance;
import org.dtmspark.core.morph.DtmLossConfig;
import org.dtmspark.core.morph.MorphScheduleSampler;

/** The {@code pretrain.morph} section: dynamic token morphing schedule and loss. */
public record MorphSettings(
    boolean enabled,
    int levels,
    int maxRemove,
    int maxIterations,
    boolean protectFirst,
    Distance distance,
    double smoothL1Beta,
    boolean normalizeTargets) {

  static MorphSettings from(SettingsReader r) {
    return new MorphSettings(
        r.bool("enabled"),
        r.intAtLeast("levels", 1),
        r.intAtLeast("max-remove", 0),
        r.intAtLeast("max-iterations", 1),
        r.bool("protect-first"),
        Distance.parse(r.oneOf("distance", List.of("cosine", "smooth_l1", "l1", "l2"))),
        r.positive("smooth-l1-beta"),
        r.bool("normalize-targets"));
  }

  public DtmLossConfig lossConfig() {
    return new DtmLossConfig(distance, smoothL1Beta, normalizeTargets, protectFirst);
  }

  /** Sampler for {@code numTokens} target tokens; n_max is capped at the token count. */
  public MorphScheduleSampler sampler(int numTokens) {
    return new MorphScheduleSampler(
        numTokens, levels, Math.min(maxRemove, numTokens), maxIterations);
  }
}
