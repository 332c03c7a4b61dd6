package org.dtmspark.cli;

import com.typesafe.config.Config;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.SparkSession;
import org.dtmspark.core.config.ConfigError;
import org.dtmspark.core.config.PretrainSettings;
import org.dtmspark.core.data.ImageDataset;
import org.dtmspark.core.teacher.TargetStore;
import org.dtmspark.core.teacher.Teacher;
import org.dtmspark.core.teacher.Teachers;
import org.dtmspark.core.train.PretrainResult;
import org.dtmspark.core.train.Pretrainer;
import org.dtmspark.data.Datasets;
import org.dtmspark.jobs.JobLog;
import org.dtmspark.jobs.SparkSessions;
import org.dtmspark.jobs.pretrain.DistributedPretrainJob;
import org.dtmspark.jobs.pretrain.RunDirectory;
import org.dtmspark.jobs.pretrain.TargetStores;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code dtm pretrain}: DTM pretraining, in this JVM or data-parallel on Spark. */
@Command(
    name = "pretrain",
    mixinStandardHelpOptions = true,
    description = {
      "DTM pretraining of a student from a frozen teacher (online) or a target cache.",
      "With --ranks 1 (the default) and no Spark master it trains in this JVM (CPU, or one GPU"
          + " through DJL). With --ranks N, or under spark-submit, it runs as a Spark barrier"
          + " stage of N tasks, one executor JVM and device per rank, gradients all-reduced every"
          + " step; without a master bin/dtm starts an embedded cluster of N executor JVMs.",
      "Writes metrics.jsonl, loss.png, lr.png and checkpoints/{step-N,last} under --output"
          + " (any Hadoop filesystem for the Spark job)."
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
      paramLabel = "PATH",
      description =
          "Online teacher: a Hugging Face CLIP directory, a TorchScript file, or a checkpoint"
              + " directory of this project (sets pretrain.teacher.checkpoint).")
  Path teacher;

  @Option(
      names = "--targets",
      paramLabel = "CACHE",
      description =
          "Target cache written by `dtm targets` for the same images: the student replays the"
              + " cached views and learns from the stored tokens (instead of --teacher).")
  String targets;

  @Option(
      names = "--output",
      required = true,
      paramLabel = "DIR",
      description = "Run directory (a local path, or any Hadoop URI for the Spark job).")
  String output;

  @Option(
      names = "--resume",
      arity = "0..1",
      paramLabel = "CHECKPOINT",
      fallbackValue = "",
      description =
          "Continue a stopped run: from CHECKPOINT, or without a value from the run directory's"
              + " latest checkpoint.")
  String resume;

  @Option(
      names = "--ranks",
      defaultValue = "1",
      paramLabel = "N",
      description = "Data-parallel ranks (one executor JVM and device each). Default: 1.")
  int ranks;

  @Option(
      names = "--executor-memory-mb",
      defaultValue = "2048",
      paramLabel = "MB",
      description = "Heap of each executor JVM of the embedded cluster (--ranks N). Default: 2048.")
  int executorMemoryMb;

  @Option(names = "--max-steps", paramLabel = "N", description = "Stop after N steps (smoke runs).")
  Long maxSteps;

  @Option(
      names = "--max-retries",
      paramLabel = "N",
      description =
          "With --ranks: resubmit the training stage up to N times after a failed task or a lost"
              + " executor, each time resuming from the latest checkpoint (sets"
              + " pretrain.distributed.max-retries, default 2).")
  Integer maxRetries;

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
    if (maxRetries != null) {
      extra.add("pretrain.distributed.max-retries=" + maxRetries);
    }
    Config effective = config.load(extra);
    PretrainSettings settings = PretrainSettings.from(effective);
    JobLog.effectiveConfig("pretrain", effective);
    boolean hasTeacher = !settings.teacher().checkpoint().isEmpty();
    if (targets != null && hasTeacher) {
      throw new ConfigError(
          "pretrain takes its targets from --targets or from a teacher, not both: drop --teacher /"
              + " pretrain.teacher.checkpoint, or --targets");
    }
    if (targets == null && !hasTeacher) {
      throw new ConfigError(
          "pretrain needs targets: --targets CACHE, or a teacher (--teacher PATH or"
              + " pretrain.teacher.checkpoint)");
    }
    if (ranks < 1) {
      throw new ConfigError("--ranks must be at least 1, cannot be: " + ranks);
    }
    if (ranks > 1 || System.getProperty("spark.master") != null) {
      return distributed(effective, settings);
    }
    return singleJvm(settings);
  }

  private int distributed(Config effective, PretrainSettings settings) throws IOException {
    if (resume != null && !resume.isEmpty()) {
      throw new ConfigError(
          "--resume takes no checkpoint with --ranks: the job resumes from the run directory's"
              + " latest checkpoint, cannot be: "
              + resume);
    }
    SparkSession spark = SparkSessions.forRanks("dtm pretrain", ranks, executorMemoryMb);
    DistributedPretrainJob.Result r;
    try {
      r =
          DistributedPretrainJob.run(
              new DistributedPretrainJob.Options(
                  images,
                  new DistributedPretrainJob.TargetSource(
                      targets, targets == null ? settings.teacher().checkpoint() : null),
                  output,
                  ranks,
                  resume != null,
                  effective),
              spark);
    } finally {
      SparkSessions.stopEmbeddedCluster(spark);
    }
    spec.commandLine()
        .getOut()
        .printf(
            "pretrain: %d ranks, to step %d in %d attempt(s), final loss %.4f, %.1f images/s,"
                + " checkpoint %s%n",
            ranks, r.finalStep(), r.attempts(), r.finalLoss(), r.imagesPerSecond(), r.checkpoint());
    return 0;
  }

  private int singleJvm(PretrainSettings settings) throws Exception {
    Path out = Path.of(output);
    Optional<Path> from = Optional.empty();
    if (resume != null) {
      from =
          resume.isEmpty()
              ? new RunDirectory(new Configuration(), new org.apache.hadoop.fs.Path(out.toUri()))
                  .latestCheckpoint()
                  .map(c -> Path.of(c.path().toUri()))
              : Optional.of(Path.of(resume));
    }
    ImageDataset data = Datasets.open(images);
    Pretrainer pretrainer = new Pretrainer(settings);
    try (AutoCloseable source =
        targets != null
            ? TargetStores.open(new Configuration(), targets, data, "--images " + images)
            : Teachers.open(
                Path.of(settings.teacher().checkpoint()),
                settings.teacher().normalization(),
                settings.teacher().useTokenHead(),
                settings.model().imageSize(),
                settings.model().patchSize())) {
      Pretrainer.Targets t =
          source instanceof Teacher teacher
              ? new Pretrainer.Online(teacher)
              : new Pretrainer.Cached((TargetStore) source);
      PretrainResult result = pretrainer.run(data, t, out, from);
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
