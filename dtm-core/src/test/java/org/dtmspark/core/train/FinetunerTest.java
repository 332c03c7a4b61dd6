package org.dtmspark.core.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.dtmspark.core.config.ConfigLoader;
import org.dtmspark.core.config.FinetuneSettings;
import org.dtmspark.core.data.AugmentConfig;
import org.dtmspark.core.io.SafeTensors;
import org.dtmspark.core.io.SafeTensorsFile;
import org.dtmspark.core.io.TensorData;
import org.dtmspark.core.metrics.MetricsLog;
import org.dtmspark.core.nn.Parameters;
import org.dtmspark.core.nn.VisionTransformer;
import org.dtmspark.core.nn.VitConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FinetunerTest {
  @TempDir Path dir;

  private static final VitConfig PRETRAINED =
      new VitConfig("tiny", 16, 4, 3, 24, 2, 2, 48, 0.1, true, true, 12, 0, 0.0);

  /** Replaces every parameter by random values so that bias tables are not zero. */
  private static void randomize(Parameters params, NDManager m) {
    for (String name : params.names()) {
      NDArray old = params.get(name);
      params.replace(name, m.randomNormal(0, 0.2f, old.getShape(), old.getDataType()));
    }
  }

  @Test
  void foldingTheSharedBiasIntoBlockTablesKeepsTheEncodersFunction() {
    Path checkpoint = dir.resolve("pretrained");
    try (NDManager m = NDManager.newBaseManager()) {
      VisionTransformer pretrained = VisionTransformer.initialize(PRETRAINED, m, 1);
      randomize(pretrained.parameters(), m);
      ModelCheckpoints.save(
          checkpoint, pretrained, null, 10, 5, Map.of("seed", 0), "test", "dtm-student");

      // The encoder alone (no heads), so that the final norm loaded from the checkpoint applies.
      VitConfig finetune =
          new VitConfig("tiny", 16, 4, 3, 24, 2, 2, 48, 0.1, true, false, 0, 0, 0.0);
      VisionTransformer model = VisionTransformer.initialize(finetune, m, 2);
      Finetuner.loadEncoder(model, checkpoint, m);

      NDArray images = m.randomNormal(new Shape(2, 3, 16, 16));
      NDArray expected = pretrained.forwardFeatures(images, null, false, null);
      NDArray actual = model.forwardFeatures(images, null, false, null);
      assertThat(actual.sub(expected).abs().max().getFloat()).isLessThan(1e-5f);
    }
  }

  @Test
  void colourJitterIsOffWhileRandAugmentIsOn() {
    FinetuneSettings recipe = FinetuneSettings.from(ConfigLoader.load(List.of(), List.of()));
    assertThat(Finetuner.viewConfig(recipe, 224))
        .isEqualTo(new AugmentConfig(224, 0.08, 1.0, 0.75, 4.0 / 3, 0.5, 0, 0, 0));
    FinetuneSettings noRandAugment =
        FinetuneSettings.from(ConfigLoader.load(List.of(), List.of("finetune.rand-augment=\"\"")));
    assertThat(Finetuner.viewConfig(noRandAugment, 224))
        .isEqualTo(new AugmentConfig(224, 0.08, 1.0, 0.75, 4.0 / 3, 0.5, 0.4, 0.4, 0.4));
    assertThat(Finetuner.pixelAugmentation(recipe)).isNotNull();
    FinetuneSettings none =
        FinetuneSettings.from(
            ConfigLoader.load(
                List.of(),
                List.of("finetune.rand-augment=\"\"", "finetune.random-erasing.probability=0")));
    assertThat(Finetuner.pixelAugmentation(none)).isNull();
  }

  @Test
  void aFinetunedClassifierHoldsExactlyTimmsBeitStateDict() throws Exception {
    SyntheticImages train = new SyntheticImages(16, 16, 4, 5);
    FinetuneSettings settings =
        FinetuneSettings.from(
            ConfigLoader.load(
                List.of(),
                List.of(
                    "model.size=tiny",
                    "model.image-size=16",
                    "model.patch-size=4",
                    "model.embed-dim=24",
                    "model.depth=2",
                    "model.num-heads=2",
                    "model.mlp-dim=48",
                    "model.shared-rel-pos-bias=false",
                    "finetune.train.epochs=1",
                    "finetune.train.batch-size=8")));
    FinetuneResult r =
        new Finetuner(settings).run(train, train, Optional.empty(), dir.resolve("ft"));
    Set<String> keys =
        SafeTensors.read(r.checkpoint().resolve("model.safetensors")).tensors().keySet();
    // timm's Beit(global_pool='avg', use_abs_pos_emb=False, use_rel_pos_bias=True): no
    // mask_token, no norm, fc_norm and head (TimmInteropTest checks the full key list).
    assertThat(keys)
        .doesNotContain("mask_token", "norm.weight", "norm.bias", "lm_head.weight")
        .contains("cls_token", "fc_norm.weight", "fc_norm.bias", "head.weight", "head.bias")
        .contains("blocks.1.attn.relative_position_bias_table")
        .containsExactlyInAnyOrderElementsOf(
            VisionTransformer.parameterShapes(settings.model().toVitConfig(0, 4, 0.1)).keySet());
  }

  @Test
  void aClassifierCheckpointInTheOldLayoutIsNamedAsSuch() throws Exception {
    VitConfig classifier =
        new VitConfig("tiny", 16, 4, 3, 24, 2, 2, 48, 0.1, true, false, 0, 3, 0.0);
    Path checkpoint = dir.resolve("old-classifier");
    try (NDManager m = NDManager.newBaseManager()) {
      VisionTransformer model = VisionTransformer.initialize(classifier, m, 1);
      ModelCheckpoints.save(checkpoint, model, null, 1, 1, Map.of("seed", 0), "test", "classifier");
    }
    // Before classifiers took BEiT's fine-tuning layout they also held norm.* and mask_token.
    Path weights = checkpoint.resolve("model.safetensors");
    SafeTensorsFile file = SafeTensors.read(weights);
    LinkedHashMap<String, TensorData> tensors = new LinkedHashMap<>(file.tensors());
    tensors.put("mask_token", TensorData.ofFloats(new long[] {1, 1, 24}, new float[24]));
    tensors.put("norm.weight", TensorData.ofFloats(new long[] {24}, new float[24]));
    tensors.put("norm.bias", TensorData.ofFloats(new long[] {24}, new float[24]));
    SafeTensors.write(weights, file.metadata(), tensors);
    try (NDManager m = NDManager.newBaseManager()) {
      assertThatThrownBy(() -> ModelCheckpoints.load(checkpoint, m))
          .hasMessageContaining("unexpected [mask_token, norm.weight, norm.bias]")
          .hasMessageEndingWith(
              "(a classifier written before classifiers took BEiT's fine-tuning layout, fc_norm"
                  + " instead of the final norm and no mask token; fine-tune it again)");
    }
  }

  @Test
  void finetuningReportsValidationAccuracyEveryEpochAndSavesAClassifier() throws Exception {
    SyntheticImages train = new SyntheticImages(32, 16, 4, 5);
    SyntheticImages val = new SyntheticImages(16, 16, 4, 6);
    FinetuneSettings settings =
        FinetuneSettings.from(
            ConfigLoader.load(
                List.of(),
                List.of(
                    "model.size=tiny",
                    "model.image-size=16",
                    "model.patch-size=4",
                    "model.embed-dim=24",
                    "model.depth=2",
                    "model.num-heads=2",
                    "model.mlp-dim=48",
                    "finetune.train.epochs=2",
                    "finetune.train.batch-size=8",
                    "finetune.optim.warmup-epochs=1")));
    FinetuneResult r = new Finetuner(settings).run(train, val, Optional.empty(), dir.resolve("ft"));

    assertThat(r.steps()).isEqualTo(8);
    assertThat(r.valTop1()).isBetween(0.0, 1.0);
    List<Map<String, Object>> records = MetricsLog.read(r.metrics());
    assertThat(records.stream().filter(x -> x.containsKey("val_top1")).count()).isEqualTo(2);
    try (NDManager m = NDManager.newBaseManager()) {
      ModelCheckpoints.Loaded loaded = ModelCheckpoints.load(r.checkpoint(), m);
      assertThat(loaded.meta().kind()).isEqualTo("classifier");
      assertThat(loaded.model().config().numClasses()).isEqualTo(4);
    }
  }
}
