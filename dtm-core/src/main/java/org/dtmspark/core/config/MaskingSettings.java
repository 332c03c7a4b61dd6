package org.dtmspark.core.config;

import org.dtmspark.core.data.BlockMaskGenerator;

/** The {@code pretrain.masking} section: BEiT v2 block-wise masking. */
public record MaskingSettings(
    int numMasked, double ratio, int minBlockPatches, double minAspect, int maxAttempts) {

  static MaskingSettings from(SettingsReader r) {
    return new MaskingSettings(
        r.intAtLeast("num-masked", 0),
        r.numberInHalfOpen("ratio", 0, 1),
        r.intAtLeast("min-block-patches", 1),
        r.numberIn("min-aspect", 1e-3, 1),
        r.intAtLeast("max-attempts", 1));
  }

  /** Masked patches for a grid of {@code numPatches}; fails naming the key when it cannot fit. */
  public int count(int numPatches) {
    int count = ratio > 0 ? (int) Math.round(ratio * numPatches) : numMasked;
    if (count > numPatches) {
      throw new ConfigError(
          "pretrain.masking.num-masked must be at most the number of patches ("
              + numPatches
              + "), cannot be: "
              + count
              + "; set pretrain.masking.ratio for other resolutions");
    }
    return count;
  }

  /** The generator for a {@code gridSize x gridSize} patch grid. */
  public BlockMaskGenerator generator(int gridSize) {
    int count = count(gridSize * gridSize);
    return new BlockMaskGenerator(
        gridSize,
        gridSize,
        count,
        Math.min(minBlockPatches, Math.max(1, count)),
        0,
        minAspect,
        maxAttempts);
  }
}
