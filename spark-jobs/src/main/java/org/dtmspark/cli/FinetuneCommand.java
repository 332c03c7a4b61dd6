package org.dtmspark.cli;

import com.typesafe.config.Config;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import org.dtmspark.core.config.FinetuneSettings;
import org.dtmspark.core.train.FinetuneResult;
import org.dtmspark.core.train.Finetuner;
import org.dtmspark.data.Datasets;
import org.dtmspark.jobs.JobLog;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code dtm finetune}: supervised fine-tuning of a ViT classifier. */
@Command(
    name = "finetune",
    mixinStandardHelpOptions = true,
    description = {
      "Supervised fine-tuning as paper Table 13 (AdamW, layer-wise lr decay, drop path,",
      "RandAugment, random erasing, Mixup/CutMix with label smoothing, resize + centre-crop",
      "evaluation). Starts from --init (a pretrained checkpoint's encoder) or from scratch;",
      "the classifier checkpoint loads into timm's Beit(global_pool='avg')."
    })
final class FinetuneCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Option(
      names = "--images",
      required = true,
      paramLabel = "DATASET",
      description = "Training images: " + Datasets.SPEC_HELP)
  String images;

  @Option(
      names = "--val",
      required = true,
      paramLabel = "DATASET",
      description = "Validation images.")
  String val;

  @Option(
      names = "--init",
      paramLabel = "CHECKPOINT",
      description = "Pretrained checkpoint to start from.")
  Path init;

  @Option(names = "--output", required = true, paramLabel = "DIR", description = "Run directory.")
  Path output;

  @Option(names = "--max-steps", paramLabel = "N", description = "Stop after N steps (smoke runs).")
  Long maxSteps;

  @Mixin ConfigOptions config;

  @Override
  public Integer call() throws Exception {
    List<String> extra = new ArrayList<>();
    if (maxSteps != null) {
      extra.add("finetune.train.max-steps=" + maxSteps);
    }
    Config effective = config.load(extra);
    FinetuneSettings settings = FinetuneSettings.from(effective);
    JobLog.effectiveConfig("finetune", effective);
    FinetuneResult r =
        new Finetuner(settings)
            .run(Datasets.open(images), Datasets.open(val), Optional.ofNullable(init), output);
    spec.commandLine()
        .getOut()
        .printf(
            "finetune: %d steps, final loss %.4f, val top-1 %.2f%%, checkpoint %s%n",
            r.steps(), r.finalLoss(), 100 * r.valTop1(), r.checkpoint());
    return 0;
  }
}
