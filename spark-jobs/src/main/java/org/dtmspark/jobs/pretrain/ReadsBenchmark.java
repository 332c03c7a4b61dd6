package org.dtmspark.jobs.pretrain;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.SparkSession;
import org.dtmspark.core.config.AugmentSettings;
import org.dtmspark.core.config.ConfigLoader;
import org.dtmspark.core.config.PretrainSettings;
import org.dtmspark.core.teacher.ClipVisionConfig;
import org.dtmspark.core.teacher.RandomClipCheckpoint;
import org.dtmspark.core.train.Batch;
import org.dtmspark.core.train.BatchLoader;
import org.dtmspark.core.train.BatchPlan;
import org.dtmspark.data.cache.ShardTargetStore;
import org.dtmspark.data.cache.TargetRow;
import org.dtmspark.data.idx.IdxClassNames;
import org.dtmspark.data.idx.IdxFile;
import org.dtmspark.data.idx.IdxImport;
import org.dtmspark.data.shard.Manifest;
import org.dtmspark.data.shard.ShardImageDataset;
import org.dtmspark.data.shard.ShardWriteOptions;
import org.dtmspark.jobs.targets.TargetsJob;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What every rank reads in one epoch of pretraining from a target cache, for 1, 2, 4, ... ranks:
 * the data path of {@link org.dtmspark.core.train.Pretrainer} (batch plan, loader with read-ahead,
 * cache read by view) without the training step, on Fashion-MNIST shards and a cache made by the
 * targets job with a small random CLIP teacher.
 */
public final class ReadsBenchmark {
  private static final Logger LOG = LoggerFactory.getLogger(ReadsBenchmark.class);

  private ReadsBenchmark() {}

  /**
   * What to measure.
   *
   * @param idxDir the Fashion-MNIST idx files ({@code train-images-idx3-ubyte.gz}, ...)
   * @param work where the shards, the teacher and the cache are written (kept for later runs)
   * @param images training images imported
   * @param rowsPerShard rows per image shard
   * @param views K, sampled views per image in the cache (plus the full view)
   * @param streams V, virtual streams
   * @param batch global batch
   * @param ranks the numbers of ranks to measure, each dividing {@code streams}
   */
  public record Plan(
      Path idxDir,
      Path work,
      int images,
      int rowsPerShard,
      int views,
      int streams,
      int batch,
      List<Integer> ranks) {
    public Plan {
      ranks = List.copyOf(ranks);
      for (int n : ranks) {
        if (n < 1 || streams % n != 0) {
          throw new IllegalArgumentException(
              "Every --ranks must divide --streams (" + streams + "), cannot be: " + n);
        }
      }
    }
  }

  /**
   * One rank's epoch.
   *
   * @param ranks the number of ranks of the run
   * @param rank this rank
   * @param images images this rank trained on in the epoch
   * @param imageBytes bytes it read from image shards
   * @param targetBytes bytes it read from the target cache
   */
  public record RankReads(int ranks, int rank, long images, long imageBytes, long targetBytes) {}

  /**
   * The results with the totals they compare to.
   *
   * @param shardFiles image shard files of the split
   * @param shardBytes their bytes
   * @param largestShard bytes of the largest one
   * @param cacheBytes bytes of the cache files
   * @param rowsPerImage rows per image in the cache (K plus the full view)
   * @param imagesPerEpoch images one epoch trains on
   * @param reads one entry per rank and run
   */
  public record Result(
      int shardFiles,
      long shardBytes,
      long largestShard,
      long cacheBytes,
      int rowsPerImage,
      long imagesPerEpoch,
      List<RankReads> reads) {}

  /** Prepares what is missing under the work directory, then runs every rank's epoch 0. */
  public static Result run(Plan plan, SparkSession spark) throws IOException {
    Configuration conf = new Configuration();
    Path images = plan.work().resolve("fmnist-" + plan.images() + "-" + plan.rowsPerShard());
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
    // A small CLIP vision tower: 16 tokens of 128 fp16 values (4 KB) per view at 32 px.
    Path teacher = plan.work().resolve("clip-small-random");
    if (!Files.isRegularFile(teacher.resolve("model.safetensors"))) {
      RandomClipCheckpoint.write(
          teacher,
          new ClipVisionConfig(
              64, 128, 1, 2, 32, 8, ClipVisionConfig.Activation.QUICK_GELU, 1e-5, 128),
          0);
    }
    Path cache = plan.work().resolve("cache-" + plan.images() + "-k" + plan.views());
    PretrainSettings defaults = PretrainSettings.from(ConfigLoader.load(List.of(), List.of()));
    AugmentSettings augment = defaults.augment();
    if (!Files.isRegularFile(cache.resolve("_cache_meta.json"))) {
      TargetsJob.run(
          new TargetsJob.Options(
              images.toUri().toString(),
              "train",
              teacher.toString(),
              cache.toUri().toString(),
              plan.views(),
              true,
              TargetRow.FP16,
              256,
              "teacher",
              true,
              32,
              8,
              augment,
              defaults.seed(),
              TargetRow.FP16,
              ShardWriteOptions.DEFAULTS,
              false,
              true),
          spark);
    }

    List<Long> shardSizes = sizes(images.resolve("train"));
    long cacheBytes = sizes(cache).stream().mapToLong(Long::longValue).sum();
    org.apache.hadoop.fs.Path imagesRoot = new org.apache.hadoop.fs.Path(images.toUri());
    org.apache.hadoop.fs.Path cacheRoot = new org.apache.hadoop.fs.Path(cache.toUri());
    List<RankReads> reads = new ArrayList<>();
    long perEpoch = 0;
    int rowsPerImage = 0;
    for (int ranks : plan.ranks()) {
      for (int rank = 0; rank < ranks; rank++) {
        // A fresh dataset and store per rank, as in its own JVM.
        ShardImageDataset data = ShardImageDataset.open(conf, imagesRoot, "train");
        try (ShardTargetStore store = ShardTargetStore.open(conf, cacheRoot, data)) {
          rowsPerImage = store.meta().rowsPerImage();
          int perRank = plan.batch() / ranks;
          BatchPlan batches =
              BatchPlan.of(data.blocks(), store::has, perRank, defaults.seed())
                  .forRank(perRank, rank, ranks, plan.streams());
          long steps = batches.stepsPerEpoch();
          perEpoch = steps * batches.globalBatch();
          Batch.DataRead read = null;
          long trained = 0;
          try (BatchLoader loader =
              new BatchLoader(data, batches, null, null, store, 32, null, 0, steps, 2, 1)) {
            for (long step = 0; step < steps; step++) {
              Batch b = loader.next();
              trained += b.size();
              if (b.read() != null) {
                read = b.read();
              }
            }
          }
          reads.add(new RankReads(ranks, rank, trained, read.imageBytes(), read.targetBytes()));
          LOG.info(
              "{} ranks, rank {}: {} images, {} image bytes, {} target bytes",
              ranks,
              rank,
              trained,
              read.imageBytes(),
              read.targetBytes());
        }
      }
    }
    return new Result(
        shardSizes.size(),
        shardSizes.stream().mapToLong(Long::longValue).sum(),
        shardSizes.stream().mapToLong(Long::longValue).max().orElse(0),
        cacheBytes,
        rowsPerImage,
        perEpoch,
        List.copyOf(reads));
  }

  /** Sizes of the {@code part-*.parquet} files directly under {@code dir}. */
  private static List<Long> sizes(Path dir) throws IOException {
    try (Stream<Path> files = Files.list(dir)) {
      return files
          .filter(
              p ->
                  p.getFileName().toString().startsWith("part-")
                      && p.getFileName().toString().endsWith(".parquet"))
          .map(p -> p.toFile().length())
          .toList();
    }
  }
}
