package org.dtmspark.cli;

import com.typesafe.config.Config;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import org.dtmspark.core.config.ConfigError;
import org.dtmspark.core.config.PretrainSettings;
import org.dtmspark.core.data.ImageDataset;
import org.dtmspark.core.teacher.Teacher;
import org.dtmspark.core.teacher.Teachers;
import org.dtmspark.core.train.PretrainResult;
import org.dtmspark.core.train.Pretrainer;
import org.dtmspark.data.Datasets;
import org.dtmspark.jobs.JobLog;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code dtm pretrain}: DTM pretraining of a student from a frozen teacher, in this JVM. */
@Command(
    name = "pretrain",
    mixinStandardHelpOptions = true,
    description = {
      "DTM pretraining with an online teacher in this JVM (CPU, or one GPU through DJL).",
      "Writes metrics.jsonl, loss.png, lr.png and checkpoints/{step-N,last} under --output."
    })
final class PretrainCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Option(
      names = "--images",
      required = true,
      paramLabel = "DATASET",
      description = "Training images: " + Datasets.SPEC_HELP)
  String images;

  @Option(
      names = "--teacher",
      paramLabel = "CHECKPOINT",
      description =
          "Teacher: a checkpoint directory of this project or a TorchScript file (sets"
              + " pretrain.teacher.checkpoint).")
  Path teacher;

  @Option(names = "--output", required = true, paramLabel = "DIR", description = "Run directory.")
  Path output;

  @Option(
      names = "--resume",
      paramLabel = "CHECKPOINT",
      description = "Continue from this checkpoint.")
  Path resume;

  @Option(names = "--max-steps", paramLabel = "N", description = "Stop after N steps (smoke runs).")
  Long maxSteps;

  @Mixin ConfigOptions config;

  @Override
  public Integer call() throws Exception {
    List<String> extra = new ArrayList<>();
    if (teacher != null) {
      extra.add("pretrain.teacher.checkpoint=\"" + teacher + "\"");
    }
    if (maxSteps != null) {
      extra.add("pretrain.train.max-steps=" + maxSteps);
    }
    Config effective = config.load(extra);
    PretrainSettings settings = PretrainSettings.from(effective);
    JobLog.effectiveConfig("pretrain", effective);
    if (settings.teacher().checkpoint().isEmpty()) {
      throw new ConfigError(
          "pretrain needs a teacher: --teacher DIR or pretrain.teacher.checkpoint");
    }
    ImageDataset data = Datasets.open(images);
    try (Teacher t =
        Teachers.open(
            Path.of(settings.teacher().checkpoint()),
            settings.teacher().normalization(),
            settings.teacher().useTokenHead(),
            settings.model().imageSize(),
            settings.model().patchSize())) {
      PretrainResult result =
          new Pretrainer(settings).run(data, t, output, Optional.ofNullable(resume));
      spec.commandLine()
          .getOut()
          .printf(
              "pretrain: %d steps (to step %d), final loss %.4f, %.1f images/s, checkpoint %s%n",
              result.stepsRun(),
              result.finalStep(),
              result.finalLoss(),
              result.imagesPerSecond(),
              result.checkpoint());
    }
    return 0;
  }
}
