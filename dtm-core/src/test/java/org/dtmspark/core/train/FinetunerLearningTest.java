package org.dtmspark.core.train;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.dtmspark.core.config.ConfigLoader;
import org.dtmspark.core.config.FinetuneSettings;
import org.dtmspark.core.metrics.MetricsLog;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Checks learning, not machinery: a short fine-tune of a tiny model from scratch, with the whole
 * fine-tuning recipe on (RandAugment, random erasing, Mixup/CutMix, label smoothing), reaches a
 * validation accuracy well above chance on a 4-class synthetic task.
 */
class FinetunerLearningTest {
  @TempDir Path dir;

  @Test
  void aShortFinetuneOfTheTinyModelLearnsWellAboveChance() throws Exception {
    SyntheticImages train = new SyntheticImages(256, 16, 4, 11);
    SyntheticImages val = new SyntheticImages(64, 16, 4, 12);
    FinetuneSettings settings =
        FinetuneSettings.from(
            ConfigLoader.load(
                List.of(),
                List.of(
                    "seed=3",
                    "model.size=tiny",
                    "model.image-size=16",
                    "model.patch-size=4",
                    "model.embed-dim=32",
                    "model.depth=2",
                    "model.num-heads=2",
                    "model.mlp-dim=64",
                    "model.shared-rel-pos-bias=false",
                    "finetune.drop-path=0",
                    "finetune.augment.min-scale=0.35",
                    "finetune.optim.base-lr=2e-3",
                    "finetune.optim.layer-decay=1.0",
                    "finetune.optim.warmup-epochs=1",
                    "finetune.train.epochs=4",
                    "finetune.train.batch-size=32")));
    assertThat(settings.randAugment()).isNotNull();
    assertThat(settings.erasing().probability()).isEqualTo(0.25);
    assertThat(settings.mixup().enabled()).isTrue();

    FinetuneResult r = new Finetuner(settings).run(train, val, Optional.empty(), dir.resolve("ft"));

    List<Map<String, Object>> epochs =
        MetricsLog.read(r.metrics()).stream().filter(x -> x.containsKey("val_top1")).toList();
    assertThat(epochs).hasSize(4);
    double first = ((Number) epochs.get(0).get("val_top1")).doubleValue();
    // Chance is 0.25.
    assertThat(r.valTop1()).as("final validation top-1 (first epoch %s)", first).isGreaterThan(0.6);
  }
}
