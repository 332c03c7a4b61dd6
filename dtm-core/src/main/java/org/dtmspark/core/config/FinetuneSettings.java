package org.dtmspark.core.config;

import ai.djl.Device;
import com.typesafe.config.Config;
import org.dtmspark.core.data.RandAugmentSpec;
import org.dtmspark.core.precision.Precision;

/**
 * Everything the {@code finetune} job needs, resolved and validated.
 *
 * @param randAugment RandAugment policy in timm's notation, or null when {@code rand-augment} is
 *     empty; when set, the colour jitter of {@code augment} is not applied (as timm)
 * @param evalCropRatio evaluation resizes the shorter side to {@code imageSize / evalCropRatio} and
 *     crops the centre {@code imageSize} square (timm's {@code crop_pct})
 */
public record FinetuneSettings(
    long seed,
    ModelSettings model,
    int numClasses,
    double dropPath,
    double labelSmoothing,
    AugmentSettings augment,
    RandAugmentSpec randAugment,
    ErasingSettings erasing,
    MixupSettings mixup,
    double evalCropRatio,
    OptimSettings optim,
    TrainSettings train,
    String precision) {
  /** The precision of training on {@code device}, {@code auto} resolved. */
  public Precision precisionOn(Device device) {
    return Precision.parse("finetune.precision", precision, device);
  }

  public static FinetuneSettings from(Config config) {
    SettingsReader root = new SettingsReader(config, "");
    SettingsReader f = root.section("finetune");
    String policy = f.string("rand-augment");
    RandAugmentSpec randAugment;
    try {
      randAugment = policy.isEmpty() ? null : RandAugmentSpec.parse(policy);
    } catch (IllegalArgumentException e) {
      throw new ConfigError("finetune.rand-augment: " + e.getMessage());
    }
    return new FinetuneSettings(
        root.longAtLeast("seed", 0),
        ModelSettings.from(root.section("model")),
        f.intAtLeast("num-classes", 0),
        f.numberInHalfOpen("drop-path", 0, 1),
        f.numberInHalfOpen("label-smoothing", 0, 1),
        AugmentSettings.from(f.section("augment")),
        randAugment,
        ErasingSettings.from(f.section("random-erasing")),
        MixupSettings.from(f.section("mixup")),
        f.numberIn("eval-crop-ratio", 0.05, 1),
        OptimSettings.from(f.section("optim")),
        TrainSettings.from(f.section("train")),
        f.oneOf("precision", PretrainSettings.PRECISIONS));
  }
}
