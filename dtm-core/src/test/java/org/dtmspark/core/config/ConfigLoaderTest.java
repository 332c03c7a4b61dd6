package org.dtmspark.core.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.Device;
import com.typesafe.config.Config;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.dtmspark.core.data.RandAugmentSpec;
import org.dtmspark.core.morph.Distance;
import org.dtmspark.core.nn.VitConfig;
import org.dtmspark.core.optim.ParameterGroups;
import org.dtmspark.core.precision.Precision;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigLoaderTest {
  @TempDir Path dir;

  @Test
  void defaultsReproduceThePaperRecipe() {
    PretrainSettings p = PretrainSettings.from(ConfigLoader.load(List.of(), List.of()));
    assertThat(p.seed()).isZero();
    assertThat(p.model()).isEqualTo(new ModelSettings("base", 224, 16, 0, 0, 0, 0, -1, true, true));
    assertThat(p.teacher()).isEqualTo(new TeacherSettings("", "teacher", true));
    assertThat(p.masking()).isEqualTo(new MaskingSettings(75, 0, 16, 0.3, 10));
    assertThat(p.augment())
        .isEqualTo(new AugmentSettings(0.2, 1.0, 0.75, 4.0 / 3, 0.5, 0.4, 0.4, 0.4));
    assertThat(p.morph())
        .isEqualTo(new MorphSettings(true, 2, 196, 14, true, Distance.COSINE, 2.0, false));
    assertThat(p.optim())
        .isEqualTo(
            new OptimSettings(1.5e-3, "sqrt", 1e-5, 10, 0.9, 0.98, 1e-8, 0.05, 1.0, 3.0, false));
    assertThat(p.optim().noDecayRule()).isEqualTo(ParameterGroups.NoDecayRule.REFERENCE);
    assertThat(p.train()).isEqualTo(new TrainSettings(300, 1024, 1, 0, 10, 1000));
    assertThat(p.precision()).isEqualTo("auto");
    assertThat(p.lossScale()).isEqualTo(new LossScaleSettings(65536, 2000));
    assertThat(p.precisionOn(Device.cpu())).isEqualTo(Precision.FP32);
    assertThat(p.precisionOn(Device.gpu())).isEqualTo(Precision.FP16);
    assertThat(p.data()).isEqualTo(new DataSettings(0, 0));
    assertThat(p.data().streamsFor(4)).isEqualTo(4);
    assertThat(p.data().loaderThreadsFor(16, 12)).isEqualTo(4);
    assertThat(p.data().loaderThreadsFor(8, 8)).isEqualTo(1);
    // Peak lr of the reference code: 1.5e-3 * sqrt(1024 / 2048).
    assertThat(p.optim().peakLr(1024)).isCloseTo(1.5e-3 * Math.sqrt(0.5), within());

    FinetuneSettings f = FinetuneSettings.from(ConfigLoader.load(List.of(), List.of()));
    assertThat(f.dropPath()).isEqualTo(0.1);
    assertThat(f.labelSmoothing()).isEqualTo(0.1);
    assertThat(f.optim())
        .isEqualTo(
            new OptimSettings(5e-4, "none", 1e-6, 10, 0.9, 0.999, 1e-8, 0.05, 0.6, 0, false));
    // Fine-tuning takes the peak lr as given, whatever the batch (reference recipe).
    assertThat(f.optim().peakLr(1024)).isEqualTo(5e-4);
    assertThat(f.optim().peakLr(64)).isEqualTo(5e-4);
    assertThat(f.train()).isEqualTo(new TrainSettings(100, 1024, 1, 0, 10, 0));
    assertThat(f.precision()).isEqualTo("auto");
    assertThat(f.augment())
        .isEqualTo(new AugmentSettings(0.08, 1.0, 0.75, 4.0 / 3, 0.5, 0.4, 0.4, 0.4));
    assertThat(f.randAugment()).isEqualTo(new RandAugmentSpec(9, 2, 0.5, 0.5, 10));
    assertThat(f.erasing()).isEqualTo(new ErasingSettings(0.25, "pixel", 1));
    assertThat(f.mixup()).isEqualTo(new MixupSettings(0.8, 1.0, 1.0, 0.5));
    assertThat(f.evalCropRatio()).isEqualTo(0.875);
    assertThat(f.numClasses()).isZero();

    ProbeSettings probe = ProbeSettings.from(ConfigLoader.load(List.of(), List.of()));
    assertThat(probe).isEqualTo(new ProbeSettings(0, 100, 256, 1e-3, 1e-4));
  }

  private static org.assertj.core.data.Offset<Double> within() {
    return org.assertj.core.data.Offset.offset(1e-12);
  }

  @Test
  void defaultModelIsViTBase16WithTheTeachersHeadWidth() {
    PretrainSettings p = PretrainSettings.from(ConfigLoader.load(List.of(), List.of()));
    VitConfig vit = p.model().toVitConfig(512, 0, 0.0);
    assertThat(vit.embedDim()).isEqualTo(768);
    assertThat(vit.depth()).isEqualTo(12);
    assertThat(vit.numHeads()).isEqualTo(12);
    assertThat(vit.mlpDim()).isEqualTo(3072);
    assertThat(vit.layerScaleInit()).isEqualTo(0.1);
    assertThat(vit.numPatches()).isEqualTo(196);
    assertThat(vit.tokenHeadDim()).isEqualTo(512);
  }

  @Test
  void commandLineWinsOverFilesWhichWinOverDefaults() throws IOException {
    Path a = dir.resolve("a.conf");
    Path b = dir.resolve("b.conf");
    Files.writeString(a, "pretrain.train.epochs = 5\npretrain.train.batch-size = 64\n");
    Files.writeString(b, "pretrain.train.epochs = 7\n");
    Config c = ConfigLoader.load(List.of(a, b), List.of("pretrain.train.batch-size=32"));
    TrainSettings t = PretrainSettings.from(c).train();
    assertThat(t.epochs()).isEqualTo(7);
    assertThat(t.batchSize()).isEqualTo(32);
    assertThat(t.logEverySteps()).isEqualTo(10);
  }

  @Test
  void unknownKeyInOverrideIsNamedWithASuggestion() {
    assertThatThrownBy(() -> ConfigLoader.load(List.of(), List.of("pretrain.train.epoch=3")))
        .isInstanceOf(ConfigError.class)
        .hasMessageContaining("Unknown configuration key 'pretrain.train.epoch'")
        .hasMessageContaining("--set pretrain.train.epoch=3")
        .hasMessageContaining("did you mean 'pretrain.train.epochs'");
  }

  @Test
  void unknownKeyInFileNamesTheFile() throws IOException {
    Path f = dir.resolve("bad.conf");
    Files.writeString(f, "model { sise = small }\n");
    assertThatThrownBy(() -> ConfigLoader.load(List.of(f), List.of()))
        .isInstanceOf(ConfigError.class)
        .hasMessageContaining("'model.sise'")
        .hasMessageContaining(f.toString());
  }

  @Test
  void missingFileIsNamed() {
    Path f = dir.resolve("nope.conf");
    assertThatThrownBy(() -> ConfigLoader.load(List.of(f), List.of()))
        .isInstanceOf(ConfigError.class)
        .hasMessageContaining("does not exist")
        .hasMessageContaining(f.toString());
  }

  @Test
  void badValuesNameTheKeyTheValueAndTheRule() {
    assertThatThrownBy(() -> pretrain("pretrain.train.epochs=0"))
        .hasMessage("pretrain.train.epochs must be at least 1, cannot be: 0");
    assertThatThrownBy(() -> pretrain("pretrain.optim.beta2=1.5"))
        .hasMessage("pretrain.optim.beta2 must be in [0.0, 1.0), cannot be: 1.5");
    assertThatThrownBy(() -> pretrain("pretrain.morph.distance=cos"))
        .hasMessage(
            "pretrain.morph.distance must be one of [cosine, smooth_l1, l1, l2], cannot be: cos");
    assertThatThrownBy(() -> pretrain("pretrain.precision=fp8"))
        .hasMessage("pretrain.precision must be one of [auto, fp32, fp16], cannot be: fp8");
    assertThatThrownBy(() -> pretrain("pretrain.train.accum-steps=0"))
        .hasMessage("pretrain.train.accum-steps must be at least 1, cannot be: 0");
    assertThatThrownBy(() -> pretrain("model.size=huge"))
        .hasMessage("model.size must be one of [tiny, small, base, large], cannot be: huge");
    assertThatThrownBy(() -> pretrain("pretrain.train.batch-size=many"))
        .isInstanceOf(ConfigError.class)
        .hasMessageContaining("pretrain.train.batch-size must be an integer");
    assertThatThrownBy(() -> pretrain("pretrain.data.loader-threads=-1"))
        .hasMessage("pretrain.data.loader-threads must be at least 0, cannot be: -1");
    assertThatThrownBy(() -> pretrain("pretrain.data.loader-threads=1000"))
        .hasMessage("pretrain.data.loader-threads must be at most 256, cannot be: 1000");
    assertThatThrownBy(() -> pretrain("pretrain.data.streams=6").data().streamsFor(4))
        .isInstanceOf(ConfigError.class)
        .hasMessageStartingWith(
            "pretrain.data.streams (6) must be a multiple of the number of ranks (4)");
  }

  @Test
  void maskingCountThatDoesNotFitTheGridIsAnError() {
    PretrainSettings p = pretrain("model.image-size=28", "model.patch-size=4");
    assertThatThrownBy(() -> p.masking().count(49))
        .hasMessageContaining(
            "pretrain.masking.num-masked must be at most the number of patches (49)")
        .hasMessageContaining("cannot be: 75");
    assertThat(pretrain("pretrain.masking.ratio=0.4").masking().count(49)).isEqualTo(20);
  }

  @Test
  void everyShippedConfigFileParsesAndValidates() throws IOException {
    Path conf = Path.of("..", "conf");
    List<Path> files;
    try (var s = Files.list(conf)) {
      files = s.filter(p -> p.toString().endsWith(".conf")).sorted().toList();
    }
    assertThat(files).isNotEmpty();
    for (Path f : files) {
      Config c = ConfigLoader.load(List.of(f), List.of());
      PretrainSettings.from(c);
      FinetuneSettings.from(c);
      ProbeSettings.from(c);
    }
  }

  /** Paper Table 13, per size: epochs, warmup, layer decay, drop path; the rest is shared. */
  @Test
  void finetuneConfigsStateTable13() {
    Object[][] table = {
      {"s16", "small", 300, 10.0, 0.6, 0.1},
      {"b16", "base", 100, 10.0, 0.6, 0.1},
      {"l16", "large", 50, 5.0, 0.8, 0.2},
    };
    for (Object[] row : table) {
      Path file = Path.of("..", "conf", "finetune-vit-" + row[0] + ".conf");
      FinetuneSettings f = FinetuneSettings.from(ConfigLoader.load(List.of(file), List.of()));
      assertThat(f.model().size()).as("%s size", file).isEqualTo(row[1]);
      assertThat(f.model().imageSize()).isEqualTo(224);
      assertThat(f.model().patchSize()).isEqualTo(16);
      assertThat(f.model().relPosBias()).as("relative position bias").isTrue();
      assertThat(f.model().sharedRelPosBias()).as("shared relative position bias").isFalse();
      assertThat(f.train().epochs()).as("%s epochs", file).isEqualTo(row[2]);
      assertThat(f.train().batchSize()).isEqualTo(1024);
      assertThat(f.optim())
          .as("%s optimizer", file)
          .isEqualTo(
              new OptimSettings(
                  5e-4,
                  "none",
                  1e-6,
                  (double) row[3],
                  0.9,
                  0.999,
                  1e-8,
                  0.05,
                  (double) row[4],
                  0,
                  false));
      assertThat(f.optim().peakLr(1024)).isEqualTo(5e-4);
      assertThat(f.dropPath()).as("%s drop path", file).isEqualTo(row[5]);
      assertThat(f.labelSmoothing()).isEqualTo(0.1);
      assertThat(f.erasing()).isEqualTo(new ErasingSettings(0.25, "pixel", 1));
      assertThat(f.randAugment()).isEqualTo(new RandAugmentSpec(9, 2, 0.5, 0.5, 10));
      assertThat(f.mixup()).isEqualTo(new MixupSettings(0.8, 1.0, 1.0, 0.5));
      assertThat(f.model().toVitConfig(0, 1000, f.dropPath()).imageSize()).isEqualTo(224);
    }
  }

  @Test
  void randAugmentPoliciesOutsideTheImplementedSetAreNamed() {
    assertThatThrownBy(
            () ->
                FinetuneSettings.from(
                    ConfigLoader.load(List.of(), List.of("finetune.rand-augment=rand-m9"))))
        .isInstanceOf(ConfigError.class)
        .hasMessage(
            "finetune.rand-augment: RandAugment policy rand-m9 must select the increasing"
                + " transform set (inc1), the only one implemented");
    assertThatThrownBy(
            () ->
                FinetuneSettings.from(
                    ConfigLoader.load(List.of(), List.of("finetune.rand-augment=rand-m9-w0-inc1"))))
        .hasMessage(
            "finetune.rand-augment: RandAugment policy rand-m9-w0-inc1 has an unknown"
                + " section (m, n, p, mstd, mmax, inc), cannot be: w0");
    assertThat(
            FinetuneSettings.from(
                    ConfigLoader.load(List.of(), List.of("finetune.rand-augment=\"\"")))
                .randAugment())
        .isNull();
  }

  @Test
  void overrideWithPathCharactersIsTakenLiterally() {
    Config c = ConfigLoader.load(List.of(), List.of("pretrain.teacher.checkpoint=/tmp/a b/ckpt"));
    assertThat(PretrainSettings.from(c).teacher().checkpoint()).isEqualTo("/tmp/a b/ckpt");
  }

  private static PretrainSettings pretrain(String... overrides) {
    return PretrainSettings.from(ConfigLoader.load(List.of(), List.of(overrides)));
  }
}
