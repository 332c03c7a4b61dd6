package org.dtmspark.core.morph;

import java.util.Collections;
import java.util.List;

/**
 * The morphing levels of one training step, shared by the whole batch. The DTM loss is the mean of
 * the per-level losses.
 *
 * @param levels at least one level; stored as an immutable copy
 */
public record MorphSchedule(List<MorphLevel> levels) {
  public MorphSchedule {
    if (levels == null || levels.isEmpty()) {
      throw new IllegalArgumentException(
          "Morph schedule must have at least 1 level, cannot be: "
              + (levels == null ? "null" : "empty"));
    }
    levels = List.copyOf(levels);
  }

  /** A schedule of {@code numLevels} levels that merge nothing: the token-wise baseline. */
  public static MorphSchedule tokenWise(int numLevels) {
    if (numLevels < 1) {
      throw new IllegalArgumentException(
          "Number of levels must be at least 1, cannot be: " + numLevels);
    }
    return new MorphSchedule(Collections.nCopies(numLevels, new MorphLevel(0, 1)));
  }

  /** True when no level merges any token. */
  public boolean isTokenWise() {
    return levels.stream().allMatch(MorphLevel::isTokenWise);
  }
}
