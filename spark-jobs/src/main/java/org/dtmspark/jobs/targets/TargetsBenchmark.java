package org.dtmspark.jobs.targets;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.SparkSession;
import org.dtmspark.core.config.AugmentSettings;
import org.dtmspark.core.config.ConfigLoader;
import org.dtmspark.core.config.PretrainSettings;
import org.dtmspark.core.teacher.ClipVisionConfig;
import org.dtmspark.core.teacher.RandomClipCheckpoint;
import org.dtmspark.data.cache.TargetRow;
import org.dtmspark.data.idx.IdxClassNames;
import org.dtmspark.data.idx.IdxFile;
import org.dtmspark.data.idx.IdxImport;
import org.dtmspark.data.shard.Manifest;
import org.dtmspark.data.shard.ShardWriteOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The target-generation figures of BENCHMARKS.md: the real targets job with a ViT-B/16-sized CLIP
 * teacher of random weights on Fashion-MNIST shards, in this JVM, and the size of a cache.
 *
 * <p>Makes once under the work directory: the teacher ({@link RandomClipCheckpoint#vitB16()}) and
 * the first {@code images} Fashion-MNIST training images as PNG shards. Then runs {@link
 * TargetsJob} {@code rounds} times with {@code --overwrite}; the first round includes loading the
 * teacher and warming up, later rounds find it in {@link TeacherCache}.
 */
public final class TargetsBenchmark {
  private static final Logger LOG = LoggerFactory.getLogger(TargetsBenchmark.class);

  /** Images of the ImageNet-1K training split. */
  public static final long IMAGENET_TRAIN_IMAGES = 1_281_167L;

  private TargetsBenchmark() {}

  /**
   * What to measure.
   *
   * @param idxDir directory of the Fashion-MNIST idx files
   * @param work where the teacher, the shards and the caches go
   * @param images training images to use
   * @param rowsPerShard images per shard (one Spark task each)
   * @param views K
   * @param batchSize rendered views per teacher call
   * @param rounds runs of the job
   */
  public record Plan(
      Path idxDir, Path work, int images, int rowsPerShard, int views, int batchSize, int rounds) {
    public Plan {
      if (images < 1 || rowsPerShard < 1 || views < 1 || batchSize < 1 || rounds < 1) {
        throw new IllegalArgumentException(
            "Images, rows per shard, views, batch size and rounds must be at least 1, cannot be: "
                + images
                + ", "
                + rowsPerShard
                + ", "
                + views
                + ", "
                + batchSize
                + ", "
                + rounds);
      }
    }
  }

  /**
   * One run of the job.
   *
   * @param round 1 for the first run (teacher load and warm-up included)
   * @param result what the job reported
   */
  public record Round(int round, TargetsJob.Result result) {}

  /** Prepares what is missing under the work directory and runs the job {@code rounds} times. */
  public static List<Round> run(Plan plan, SparkSession spark) throws IOException {
    Path teacher = plan.work().resolve("clip-vit-b16-random");
    if (!Files.isRegularFile(teacher.resolve("model.safetensors"))) {
      LOG.info("Writing a random ViT-B/16 CLIP vision checkpoint to {}", teacher);
      ClipVisionConfig config = RandomClipCheckpoint.vitB16();
      RandomClipCheckpoint.write(teacher, config, 0);
    }
    Path images = plan.work().resolve("fmnist-" + plan.images() + "-" + plan.rowsPerShard());
    Configuration conf = new Configuration();
    if (!Files.isRegularFile(images.resolve(Manifest.FILE_NAME))) {
      IdxImport.run(
          IdxImport.Options.builder()
              .setOutput(new org.apache.hadoop.fs.Path(images.toUri()))
              .optClassNames(IdxClassNames.parse("fashion-mnist"))
              .optRowsPerShard(plan.rowsPerShard())
              .optOverwrite(true)
              .optConf(conf)
              .addSplit(
                  new IdxImport.Split(
                      "train",
                      IdxFile.local(plan.idxDir().resolve("train-images-idx3-ubyte.gz")),
                      IdxFile.local(plan.idxDir().resolve("train-labels-idx1-ubyte.gz")),
                      plan.images()))
              .build());
    }
    PretrainSettings defaults = PretrainSettings.from(ConfigLoader.load(List.of(), List.of()));
    AugmentSettings augment = defaults.augment();
    List<Round> rounds = new ArrayList<>();
    for (int round = 1; round <= plan.rounds(); round++) {
      TargetsJob.Options options =
          new TargetsJob.Options(
              images.toUri().toString(),
              "train",
              teacher.toString(),
              plan.work().resolve("cache").toUri().toString(),
              plan.views(),
              false,
              TargetRow.FP16,
              plan.batchSize(),
              "teacher",
              true,
              224,
              16,
              augment,
              defaults.seed(),
              TargetRow.FP16,
              ShardWriteOptions.DEFAULTS,
              false,
              true);
      rounds.add(new Round(round, TargetsJob.run(options, spark)));
    }
    return rounds;
  }

  /**
   * The projected size of an ImageNet-1K training cache of K views with the arithmetic, e.g. {@code
   * K=4: 1,281,167 images x 4 views x 200,704 B = 1,028,541,366,272 B = 1028.5 GB (957.9 GiB)}.
   */
  public static String projection(int views, long bytesPerView) {
    long bytes = IMAGENET_TRAIN_IMAGES * views * bytesPerView;
    return String.format(
        Locale.ROOT,
        "K=%d: %,d images x %d views x %,d B = %,d B = %.1f GB (%.1f GiB)",
        views,
        IMAGENET_TRAIN_IMAGES,
        views,
        bytesPerView,
        bytes,
        bytes / 1e9,
        bytes / (double) (1L << 30));
  }
}
