package org.dtmspark.core.config;

import ai.djl.Device;
import com.typesafe.config.Config;
import java.util.List;
import org.dtmspark.core.precision.Precision;

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
    String precision,
    LossScaleSettings lossScale,
    DistributedSettings distributed,
    DataSettings data) {
  /** Values of {@code precision}: {@code auto} is fp16 on a GPU, fp32 on a CPU. */
  public static final List<String> PRECISIONS = List.of("auto", "fp32", "fp16");

  /** The precision of a rank training on {@code device}, {@code auto} resolved. */
  public Precision precisionOn(Device device) {
    return Precision.parse("pretrain.precision", precision, device);
  }

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
        p.oneOf("precision", PRECISIONS),
        LossScaleSettings.from(p.section("loss-scale")),
        DistributedSettings.from(p.section("distributed")),
        DataSettings.from(p.section("data")));
  }
}
