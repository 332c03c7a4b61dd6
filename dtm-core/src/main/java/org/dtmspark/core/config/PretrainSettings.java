package org.dtmspark.core.config;

import com.typesafe.config.Config;

/** Everything the {@code pretrain} job needs, resolved and validated. */
public record PretrainSettings(
    long seed,
    ModelSettings model,
    TeacherSettings teacher,
    MaskingSettings masking,
    AugmentSettings augment,
    MorphSettings morph,
    OptimSettings optim,
    TrainSettings train,
    DistributedSettings distributed,
    DataSettings data) {

  public static PretrainSettings from(Config config) {
    SettingsReader root = new SettingsReader(config, "");
    SettingsReader p = root.section("pretrain");
    return new PretrainSettings(
        root.longAtLeast("seed", 0),
        ModelSettings.from(root.section("model")),
        TeacherSettings.from(p.section("teacher")),
        MaskingSettings.from(p.section("masking")),
        AugmentSettings.from(p.section("augment")),
        MorphSettings.from(p.section("morph")),
        OptimSettings.from(p.section("optim")),
        TrainSettings.from(p.section("train")),
        DistributedSettings.from(p.section("distributed")),
        DataSettings.from(p.section("data")));
  }
}
