package org.dtmspark.core.config;

import java.util.List;
import org.dtmspark.core.nn.VitConfig;

/**
 * The {@code model} section: a size preset plus optional shape overrides.
 *
 * @param size preset name: tiny, small, base or large
 * @param imageSize input resolution in pixels
 * @param patchSize patch size in pixels
 * @param embedDim embedding width, 0 keeps the preset's
 * @param depth number of blocks, 0 keeps the preset's
 * @param numHeads attention heads, 0 keeps the preset's
 * @param mlpDim MLP hidden width, 0 keeps the preset's
 * @param layerScaleInit layer-scale init, negative keeps the preset's, 0 disables
 * @param relPosBias per-block relative position bias
 * @param sharedRelPosBias shared relative position bias
 */
public record ModelSettings(
    String size,
    int imageSize,
    int patchSize,
    int embedDim,
    int depth,
    int numHeads,
    int mlpDim,
    double layerScaleInit,
    boolean relPosBias,
    boolean sharedRelPosBias) {

  static final List<String> SIZES = List.of("tiny", "small", "base", "large");

  static ModelSettings from(SettingsReader r) {
    return new ModelSettings(
        r.oneOf("size", SIZES),
        r.intAtLeast("image-size", 1),
        r.intAtLeast("patch-size", 1),
        r.intAtLeast("embed-dim", 0),
        r.intAtLeast("depth", 0),
        r.intAtLeast("num-heads", 0),
        r.intAtLeast("mlp-dim", 0),
        r.number("layer-scale-init"),
        r.bool("rel-pos-bias"),
        r.bool("shared-rel-pos-bias"));
  }

  /**
   * The architecture these settings describe.
   *
   * @param tokenHeadDim width of the pretraining token head (the teacher's dimension), 0 for none
   * @param numClasses classifier classes, 0 for none
   * @param dropPath stochastic depth rate
   */
  public VitConfig toVitConfig(int tokenHeadDim, int numClasses, double dropPath) {
    VitConfig preset;
    try {
      preset = VitConfig.preset(size, imageSize, patchSize);
      return new VitConfig(
          preset.name(),
          imageSize,
          patchSize,
          preset.inChannels(),
          embedDim > 0 ? embedDim : preset.embedDim(),
          depth > 0 ? depth : preset.depth(),
          numHeads > 0 ? numHeads : preset.numHeads(),
          mlpDim > 0 ? mlpDim : preset.mlpDim(),
          layerScaleInit >= 0 ? layerScaleInit : preset.layerScaleInit(),
          relPosBias,
          sharedRelPosBias,
          tokenHeadDim,
          numClasses,
          dropPath);
    } catch (IllegalArgumentException e) {
      throw new ConfigError("model: " + e.getMessage());
    }
  }
}
