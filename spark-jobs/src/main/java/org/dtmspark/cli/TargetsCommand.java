package org.dtmspark.cli;

import com.typesafe.config.Config;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.apache.spark.sql.SparkSession;
import org.dtmspark.core.config.ConfigError;
import org.dtmspark.core.config.ModelSettings;
import org.dtmspark.core.config.PretrainSettings;
import org.dtmspark.data.shard.ShardWriteOptions;
import org.dtmspark.jobs.JobLog;
import org.dtmspark.jobs.SparkSessions;
import org.dtmspark.jobs.targets.TargetsJob;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code dtm targets}: the teacher target-token cache of an image shard split, with Spark. */
@Command(
    name = "targets",
    mixinStandardHelpOptions = true,
    description = {
      "Runs a frozen teacher over K views of every image of a shard split as a Spark job and",
      "writes the target-token cache: <output>/part-NNNNN.parquet (the targets of",
      "<images>/<split>/part-NNNNN.parquet), rejects under <output>/_rejects/, and",
      "_cache_meta.json, written last once every image has its views or a reject row.",
      "Views follow pretrain.augment.* and seed (--config/--set); the teacher runs on the GPU",
      "Spark gives a task (fp16 by default) and on the CPU otherwise."
    })
final class TargetsCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Option(
      names = "--images",
      required = true,
      paramLabel = "DIR",
      description = "Image shard root (_manifest.json, <split>/part-*.parquet); any Hadoop URI.")
  String images;

  @Option(
      names = "--split",
      defaultValue = "train",
      paramLabel = "NAME",
      description = "Split to cover (default: ${DEFAULT-VALUE}).")
  String split;

  @Option(
      names = "--teacher",
      paramLabel = "PATH",
      description =
          "Teacher: a Hugging Face CLIP directory, a TorchScript file or a checkpoint directory"
              + " of this project; a local path on every executor or a Hadoop URI (default:"
              + " pretrain.teacher.checkpoint).")
  String teacher;

  @Option(names = "--output", required = true, paramLabel = "DIR", description = "Cache root.")
  String output;

  @Option(
      names = "--views",
      required = true,
      paramLabel = "K",
      description = "Sampled views per image (0 with --full-view: the full view only).")
  int views;

  @Option(
      names = "--full-view",
      description = "Also the whole image resized, no flip, no jitter (view index -1).")
  boolean fullView;

  @Option(
      names = "--dtype",
      defaultValue = "fp16",
      paramLabel = "fp16|fp32",
      description = "Token storage (default: ${DEFAULT-VALUE}).")
  String dtype;

  @Option(
      names = "--batch-size",
      defaultValue = "64",
      paramLabel = "B",
      description = "Rendered views per teacher call (default: ${DEFAULT-VALUE}).")
  int batchSize;

  @Option(
      names = "--gpu-dtype",
      defaultValue = "fp16",
      paramLabel = "fp16|fp32",
      description =
          "Teacher compute type on GPUs (default: ${DEFAULT-VALUE}; TorchScript teachers run as"
              + " saved). CPUs compute in fp32.")
  String gpuDtype;

  @Option(
      names = "--row-group-size",
      paramLabel = "BYTES",
      defaultValue = "64m",
      description = "Parquet row-group size (default: ${DEFAULT-VALUE}).")
  String rowGroupSize;

  @Option(
      names = "--compression",
      defaultValue = "snappy",
      description = "uncompressed, snappy, gzip, zstd or lz4_raw (default: ${DEFAULT-VALUE}).")
  String compression;

  @Option(
      names = "--resume",
      description =
          "Finish an interrupted run: keep cache files with the same settings, redo the rest.")
  boolean resume;

  @Option(names = "--overwrite", description = "Replace an existing cache.")
  boolean overwrite;

  @Mixin ConfigOptions config;

  @Override
  public Integer call() throws Exception {
    Config effective = config.load(List.of());
    PretrainSettings settings = PretrainSettings.from(effective);
    JobLog.effectiveConfig("targets", effective);
    String teacherPath = teacher != null ? teacher : settings.teacher().checkpoint();
    if (teacherPath.isEmpty()) {
      throw new ConfigError(
          "targets needs a teacher: --teacher PATH or pretrain.teacher.checkpoint");
    }
    ShardWriteOptions write =
        ShardWriteOptions.DEFAULTS
            .withRowGroupBytes(ShardCommand.bytes("--row-group-size", rowGroupSize))
            .withCodec(ShardWriteOptions.parseCodec(compression));
    if (output.startsWith("s3a://")) {
      write = write.withCommitMode(ShardWriteOptions.CommitMode.DIRECT);
    }
    ModelSettings model = settings.model();
    TargetsJob.Options options =
        new TargetsJob.Options(
            images,
            split,
            teacherPath,
            output,
            views,
            fullView,
            dtype,
            batchSize,
            settings.teacher().normalization(),
            settings.teacher().useTokenHead(),
            model.imageSize(),
            model.patchSize(),
            settings.augment(),
            settings.seed(),
            gpuDtype,
            write,
            resume,
            overwrite);
    SparkSession spark = SparkSessions.getOrCreate("dtm targets");
    TargetsJob.Result r = TargetsJob.run(options, spark);
    spec.commandLine().getOut().println(summary(r));
    return 0;
  }

  /** The one-line result. */
  static String summary(TargetsJob.Result r) {
    if (r.alreadyComplete()) {
      return String.format(
          Locale.ROOT,
          "targets: already complete: %d images (%d rejected), %d rows [%d, %d] in %d files;"
              + " meta %s",
          r.images(),
          r.rejected(),
          r.rows(),
          r.numTokens(),
          r.dim(),
          r.shards(),
          r.meta());
    }
    return String.format(
        Locale.ROOT,
        "targets: %d images (%d rejected), %d rows [%d, %d] in %d files (%d written, %d kept);"
            + " this run %d images in %.1f s (%.2f images/s, %.2f views/s); meta %s",
        r.images(),
        r.rejected(),
        r.rows(),
        r.numTokens(),
        r.dim(),
        r.shards(),
        r.shardsWritten(),
        r.shardsKept(),
        r.imagesWritten(),
        r.seconds(),
        r.imagesPerSecond(),
        r.viewsPerSecond(),
        r.meta());
  }
}
