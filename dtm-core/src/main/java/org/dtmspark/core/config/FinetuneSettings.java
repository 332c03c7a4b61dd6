package org.dtmspark.core.config;

import ai.djl.Device;
import com.typesafe.config.Config;
import org.dtmspark.core.precision.Precision;

/** Everything the {@code finetune} job needs, resolved and validated. */
public record FinetuneSettings(
    long seed,
    ModelSettings model,
    int numClasses,
    double dropPath,
    double labelSmoothing,
    AugmentSettings augment,
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
    return new FinetuneSettings(
        root.longAtLeast("seed", 0),
        ModelSettings.from(root.section("model")),
        f.intAtLeast("num-classes", 0),
        f.numberInHalfOpen("drop-path", 0, 1),
        f.numberInHalfOpen("label-smoothing", 0, 1),
        AugmentSettings.from(f.section("augment")),
        OptimSettings.from(f.section("optim")),
        TrainSettings.from(f.section("train")),
        f.oneOf("precision", PretrainSettings.PRECISIONS));
  }
}
