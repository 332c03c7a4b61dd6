package org.dtmspark.core.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.dtmspark.core.config.ConfigError;
import org.dtmspark.core.config.ConfigLoader;
import org.dtmspark.core.config.PretrainSettings;
import org.dtmspark.core.data.ImageNormalization;
import org.dtmspark.core.metrics.MetricsLog;
import org.dtmspark.core.nn.VisionTransformer;
import org.dtmspark.core.nn.VitConfig;
import org.dtmspark.core.teacher.Teacher;
import org.dtmspark.core.teacher.VitTeacher;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PretrainerTest {
  @TempDir Path dir;

  static final List<String> TINY =
      List.of(
          "model.size=tiny",
          "model.image-size=16",
          "model.patch-size=4",
          "model.embed-dim=24",
          "model.depth=2",
          "model.num-heads=2",
          "model.mlp-dim=48",
          "pretrain.masking.ratio=0.4",
          "pretrain.masking.min-block-patches=2",
          "pretrain.train.epochs=2",
          "pretrain.train.batch-size=4",
          "pretrain.train.log-every-steps=1",
          "pretrain.optim.warmup-epochs=1",
          "pretrain.optim.lr-rule=none");

  private static PretrainSettings settings(String... extra) {
    List<String> all = new java.util.ArrayList<>(TINY);
    all.addAll(List.of(extra));
    return PretrainSettings.from(ConfigLoader.load(List.of(), all));
  }

  private static Teacher teacher(NDManager manager) {
    VitConfig config = new VitConfig("tiny", 16, 4, 3, 16, 1, 2, 32, 0.1, true, false, 0, 0, 0.0);
    VisionTransformer model = VisionTransformer.initialize(config, manager, 99);
    return new VitTeacher("random-teacher", model, ImageNormalization.CLIP, false);
  }

  @Test
  void trainsWritesMetricsCurvesAndACheckpoint() throws Exception {
    SyntheticImages data = new SyntheticImages(16, 16, 4, 1);
    try (NDManager m = NDManager.newBaseManager();
        Teacher t = teacher(m)) {
      PretrainResult r =
          new Pretrainer(settings()).run(data, t, dir.resolve("run"), Optional.empty());
      assertThat(r.stepsRun()).isEqualTo(8);
      assertThat(r.finalStep()).isEqualTo(8);
      assertThat(r.finalLoss()).isFinite().isPositive();
      List<Map<String, Object>> records = MetricsLog.read(r.metrics());
      List<Map<String, Object>> metrics =
          records.stream().filter(rec -> rec.containsKey("step")).toList();
      assertThat(metrics).hasSize(8);
      assertThat(metrics.get(0)).containsKeys("step", "loss", "lr", "grad_norm", "levels");
      // Every epoch, what the rank read from storage: nothing, for images held in memory.
      assertThat(records.stream().filter(rec -> rec.containsKey("image_bytes_read")))
          .extracting(
              rec -> rec.get("rank") + "/" + rec.get("epoch") + "/" + rec.get("image_bytes_read"))
          .containsExactly("0/0/0", "0/1/0");
      assertThat(Files.exists(dir.resolve("run/loss.png"))).isTrue();
      assertThat(Files.exists(dir.resolve("run/lr.png"))).isTrue();
      try (NDManager load = NDManager.newBaseManager()) {
        ModelCheckpoints.Loaded ckpt = ModelCheckpoints.load(r.checkpoint(), load);
        assertThat(ckpt.step()).isEqualTo(8);
        assertThat(ckpt.model().config().tokenHeadDim()).isEqualTo(16);
        assertThat(ckpt.optimizer()).isPresent();
      }
    }
  }

  @Test
  void resumedRunEndsWithTheSameWeightsAsAnUninterruptedOne() throws Exception {
    SyntheticImages data = new SyntheticImages(16, 16, 4, 2);
    // Two streams, resumed in the middle of epoch 0 (4 steps per epoch).
    String streams = "pretrain.data.streams=2";
    try (NDManager m = NDManager.newBaseManager();
        Teacher t = teacher(m)) {
      PretrainResult full =
          new Pretrainer(settings(streams)).run(data, t, dir.resolve("full"), Optional.empty());
      PretrainResult half =
          new Pretrainer(settings(streams, "pretrain.train.max-steps=3"))
              .run(data, t, dir.resolve("half"), Optional.empty());
      assertThat(half.finalStep()).isEqualTo(3);
      assertThatThrownBy(
              () ->
                  new Pretrainer(settings("pretrain.data.streams=4"))
                      .run(data, t, dir.resolve("other"), Optional.of(half.checkpoint())))
          .isInstanceOf(ConfigError.class)
          .hasMessageContaining("was trained with pretrain.data.streams = 2")
          .hasMessageContaining("this run deals the data to 4 streams");
      PretrainResult resumed =
          new Pretrainer(settings(streams))
              .run(data, t, dir.resolve("resumed"), Optional.of(half.checkpoint()));
      assertThat(resumed.stepsRun()).isEqualTo(5);
      assertThat(resumed.finalStep()).isEqualTo(8);
      try (NDManager load = NDManager.newBaseManager()) {
        var a = ModelCheckpoints.load(full.checkpoint(), load).model().parameters();
        var b = ModelCheckpoints.load(resumed.checkpoint(), load).model().parameters();
        assertThat(b.names()).isEqualTo(a.names());
        for (String name : a.names()) {
          NDArray x = a.get(name);
          NDArray y = b.get(name);
          // Bitwise equality is not promised: MKL's sgemm may sum in another order for buffers at
          // other addresses (reloaded tensors). A wrong batch, mask or schedule after the resume
          // moves weights by ~lr = 1e-3 per step, far above this bound.
          assertThat(x.sub(y).abs().max().getFloat()).as(name).isLessThan(2e-5f);
        }
      }
      assertThat(resumed.finalLoss())
          .isCloseTo(full.finalLoss(), org.assertj.core.data.Offset.offset(1e-5));
    }
  }

  @Test
  void tokenWiseBaselineTrainsToo() throws Exception {
    SyntheticImages data = new SyntheticImages(8, 16, 4, 3);
    try (NDManager m = NDManager.newBaseManager();
        Teacher t = teacher(m)) {
      PretrainResult r =
          new Pretrainer(settings("pretrain.morph.enabled=false", "pretrain.train.epochs=1"))
              .run(data, t, dir.resolve("tw"), Optional.empty());
      assertThat(r.stepsRun()).isEqualTo(2);
      assertThat(r.finalLoss()).isFinite();
    }
  }

  @Test
  void teacherOfAnotherResolutionIsRejectedBeforeTraining() {
    SyntheticImages data = new SyntheticImages(8, 16, 4, 3);
    try (NDManager m = NDManager.newBaseManager();
        Teacher t = teacher(m)) {
      assertThatThrownBy(
              () ->
                  new Pretrainer(settings("model.patch-size=8"))
                      .run(data, t, dir.resolve("x"), Optional.empty()))
          .isInstanceOf(ConfigError.class)
          .hasMessageContaining("gives 16 tokens at 16 px but the student has 4 patches");
    }
  }

  @Test
  void trainsFromCachedTargetsOnTheImagesThatHaveThem() throws Exception {
    SyntheticImages data = new SyntheticImages(20, 16, 4, 5);
    BatchLoaderTest.StoredViews store = new BatchLoaderTest.StoredViews(data, 3, 16, 8);
    Pretrainer pretrainer = new Pretrainer(settings());
    Pretrainer.Cached targets = new Pretrainer.Cached(store);
    // 16 of the 20 images have targets: 4 steps of 4 per epoch.
    assertThat(pretrainer.plan(data, targets).stepsPerEpoch()).isEqualTo(4);
    PretrainResult r = pretrainer.run(data, targets, dir.resolve("cached"), Optional.empty());
    assertThat(r.finalStep()).isEqualTo(8);
    assertThat(r.finalLoss()).isFinite();
    try (NDManager m = NDManager.newBaseManager()) {
      ModelCheckpoints.Loaded last = ModelCheckpoints.load(r.checkpoint(), m);
      assertThat(last.model().config().tokenHeadDim()).isEqualTo(8);
      assertThat(last.meta().rngState().get("data_position"))
          .hasToString("{epoch=2, step_in_epoch=0, steps_per_epoch=4, streams=1}");
    }
  }
}
