package org.dtmspark.jobs.pretrain;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import com.typesafe.config.Config;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.spark.sql.SparkSession;
import org.dtmspark.core.config.ConfigError;
import org.dtmspark.core.config.ConfigLoader;
import org.dtmspark.core.config.PretrainSettings;
import org.dtmspark.core.metrics.MetricsLog;
import org.dtmspark.core.teacher.Teacher;
import org.dtmspark.core.teacher.Teachers;
import org.dtmspark.core.train.ModelCheckpoints;
import org.dtmspark.core.train.PretrainResult;
import org.dtmspark.core.train.Pretrainer;
import org.dtmspark.data.Datasets;
import org.dtmspark.data.idx.IdxImport;
import org.dtmspark.data.shard.ShardWriteOptions;
import org.dtmspark.jobs.SparkSessions;
import org.dtmspark.jobs.targets.TargetsJob;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Data-parallel pretraining across executor JVMs of an embedded {@code local-cluster}: one rank per
 * JVM, as on a real cluster.
 */
class DistributedPretrainJobTest {
  private static final Path TEACHER =
      Path.of("../dtm-core/src/test/resources/golden/clip").toAbsolutePath().normalize();
  private static final String IMAGES = "demo:train?limit=96";

  @TempDir Path dir;
  private SparkSession spark;

  @AfterEach
  void stopSpark() {
    if (spark != null) {
      spark.stop();
    }
  }

  private static Config config(int batch, String... extra) {
    List<String> all =
        new ArrayList<>(
            List.of(
                "model.size=tiny",
                "model.image-size=32",
                "model.patch-size=8",
                "model.embed-dim=24",
                "model.depth=2",
                "model.num-heads=2",
                "model.mlp-dim=48",
                "pretrain.masking.ratio=0.4",
                "pretrain.masking.min-block-patches=2",
                "pretrain.optim.lr-rule=none",
                "pretrain.optim.warmup-epochs=1",
                "pretrain.train.epochs=2",
                "pretrain.train.batch-size=" + batch,
                "pretrain.train.log-every-steps=1",
                "pretrain.train.checkpoint-every-steps=0",
                "pretrain.distributed.connect-timeout-seconds=60",
                "pretrain.distributed.step-timeout-seconds=60"));
    all.addAll(List.of(extra));
    return ConfigLoader.load(List.of(), all);
  }

  private DistributedPretrainJob.Result distributed(int ranks, Config config, Path out)
      throws Exception {
    return distributed(IMAGES, ranks, config, out);
  }

  private DistributedPretrainJob.Result distributed(
      String images, int ranks, Config config, Path out) throws Exception {
    if (spark == null) {
      spark = SparkSessions.forRanks("dtm-test", ranks, 1024);
    }
    return DistributedPretrainJob.run(
        new DistributedPretrainJob.Options(
            images,
            new DistributedPretrainJob.TargetSource(null, TEACHER.toString()),
            out.toString(),
            ranks,
            false,
            config),
        spark);
  }

  /** The 96 images as 6 image shards of 16, under the returned directory. */
  private Path sixShards() throws Exception {
    Path shards = dir.resolve("six-shards");
    IdxImport.Builder imported =
        IdxImport.Options.builder()
            .setOutput(new org.apache.hadoop.fs.Path(shards.toUri()))
            .optRowsPerShard(16);
    Datasets.idxImportSplit(IMAGES, "train").ifPresent(imported::addSplit);
    IdxImport.run(imported.build());
    return shards;
  }

  /** The metrics records of logged steps (not the ranks' data-read records). */
  private static List<Map<String, Object>> stepRecords(Path metrics) throws Exception {
    return MetricsLog.readSteps(metrics);
  }

  private static Path singleJvm(Config config, Path out) throws Exception {
    return singleJvm(IMAGES, config, out);
  }

  private static Path singleJvm(String images, Config config, Path out) throws Exception {
    PretrainSettings settings = PretrainSettings.from(config);
    try (Teacher teacher =
        Teachers.open(
            TEACHER,
            settings.teacher().normalization(),
            settings.teacher().useTokenHead(),
            32,
            8)) {
      PretrainResult r =
          new Pretrainer(settings)
              .run(Datasets.open(images), new Pretrainer.Online(teacher), out, Optional.empty());
      return r.checkpoint();
    }
  }

  /** Largest absolute difference between the weights of two checkpoints. */
  private static double maxWeightDifference(Path a, Path b) {
    try (NDManager m = NDManager.newBaseManager()) {
      Map<String, NDArray> x = ModelCheckpoints.load(a, m).model().parameters().asMap();
      Map<String, NDArray> y = ModelCheckpoints.load(b, m).model().parameters().asMap();
      assertThat(y.keySet()).isEqualTo(x.keySet());
      double max = 0;
      for (String name : x.keySet()) {
        max = Math.max(max, x.get(name).sub(y.get(name)).abs().max().getFloat());
      }
      return max;
    }
  }

  @Test
  void twoRanksWithSixStreamsTrainTheWeightsOfOneRankAndReadHalfTheShardsEach() throws Exception {
    Path shards = sixShards();
    String images = "shards:" + shards + "#train";
    Config config = config(12, "pretrain.data.streams=6");
    DistributedPretrainJob.Result two = distributed(images, 2, config, dir.resolve("two"));
    Path one = singleJvm(images, config, dir.resolve("one"));

    // 6 shards of 16 to 6 streams, 2 images of every stream per step: 8 steps per epoch.
    assertThat(two.finalStep()).isEqualTo(16);
    assertThat(two.attempts()).isEqualTo(1);
    double diff = maxWeightDifference(one, Path.of(java.net.URI.create(two.checkpoint())));
    System.out.println("max weight difference, 2 ranks vs 1 (6 streams): " + diff);
    assertThat(diff).as("max |w_2ranks - w_1rank|").isLessThan(1e-6);
    assertThat(stepRecords(dir.resolve("two/metrics.jsonl")))
        .extracting(r -> ((Number) r.get("step")).intValue())
        .containsExactly(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16);
    assertThat(dir.resolve("two/loss.png")).isNotEmptyFile();

    long shardBytes;
    long largest = 0;
    try (var files = Files.list(shards.resolve("train"))) {
      List<Long> sizes =
          files
              .filter(p -> p.getFileName().toString().startsWith("part-"))
              .map(p -> p.toFile().length())
              .toList();
      assertThat(sizes).hasSize(6);
      shardBytes = sizes.stream().mapToLong(Long::longValue).sum();
      largest = sizes.stream().mapToLong(Long::longValue).max().orElseThrow();
    }
    List<Map<String, Object>> reads =
        MetricsLog.read(dir.resolve("two/metrics.jsonl")).stream()
            .filter(r -> r.containsKey("image_bytes_read"))
            .toList();
    assertThat(reads)
        .extracting(r -> r.get("epoch") + "/" + r.get("rank"))
        .containsExactly("0/0", "0/1", "1/0", "1/1");
    for (int epoch = 0; epoch < 2; epoch++) {
      long all = 0;
      for (Map<String, Object> r : reads.subList(2 * epoch, 2 * epoch + 2)) {
        long bytes = ((Number) r.get("image_bytes_read")).longValue();
        assertThat(bytes)
            .as("rank %s, epoch %d", r.get("rank"), epoch)
            .isPositive()
            .isLessThanOrEqualTo(shardBytes / 2 + largest);
        assertThat(((Number) r.get("target_bytes_read")).longValue()).isZero();
        all += bytes;
      }
      if (epoch == 0) {
        // Every shard read once, by one rank (in epoch 1 a rank may still hold a shard it read).
        assertThat(all).isBetween(shardBytes * 9 / 10, shardBytes + largest);
      }
    }
  }

  @Test
  void threeRanksWithSixStreamsTrainTheWeightsOfOneRank() throws Exception {
    String images = "shards:" + sixShards() + "#train";
    Config config = config(12, "pretrain.data.streams=6", "pretrain.train.max-steps=5");
    DistributedPretrainJob.Result three = distributed(images, 3, config, dir.resolve("three"));
    Path one = singleJvm(images, config, dir.resolve("one"));

    assertThat(three.finalStep()).isEqualTo(5);
    double diff = maxWeightDifference(one, Path.of(java.net.URI.create(three.checkpoint())));
    System.out.println("max weight difference, 3 ranks vs 1 (6 streams): " + diff);
    assertThat(diff).as("max |w_3ranks - w_1rank|").isLessThan(1e-6);
  }

  @Test
  void streamsNotAMultipleOfTheRanksAreRefusedBeforeTraining() throws Exception {
    spark = SparkSessions.forRanks("dtm-test", 2, 1024);
    Config config = config(12, "pretrain.data.streams=3");
    assertThatThrownBy(() -> distributed(2, config, dir.resolve("x")))
        .isInstanceOf(ConfigError.class)
        .hasMessageStartingWith(
            "pretrain.data.streams (3) must be a multiple of the number of ranks (2)");
    assertThat(dir.resolve("x/checkpoints")).doesNotExist();
  }

  @Test
  void aKilledExecutorIsReplacedAndTrainingResumesFromTheLastCheckpoint() throws Exception {
    Config config =
        config(
            8,
            "pretrain.train.epochs=8",
            "pretrain.train.checkpoint-every-steps=4",
            "pretrain.distributed.max-retries=2",
            "pretrain.data.streams=2");
    Path out = dir.resolve("killed");
    AtomicReference<String> killed = new AtomicReference<>();
    Thread killer =
        new Thread(
            () -> {
              try {
                long deadline = System.nanoTime() + 300_000_000_000L;
                while (!Files.isDirectory(out.resolve("checkpoints/step-8"))) {
                  if (System.nanoTime() > deadline) {
                    return;
                  }
                  Thread.sleep(20);
                }
                ProcessHandle executor =
                    ProcessHandle.current()
                        .descendants()
                        .filter(p -> commandLine(p).contains("CoarseGrainedExecutorBackend"))
                        .findFirst()
                        .orElseThrow();
                executor.destroyForcibly();
                killed.set("pid " + executor.pid());
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
            });
    killer.setDaemon(true);
    killer.start();
    DistributedPretrainJob.Result r = distributed(2, config, out);
    killer.join(1000);

    assertThat(killed.get()).as("an executor was killed").isNotNull();
    assertThat(r.attempts()).isEqualTo(2);
    assertThat(r.finalStep()).isEqualTo(96);
    try (NDManager m = NDManager.newBaseManager()) {
      assertThat(ModelCheckpoints.load(out.resolve("checkpoints/last"), m).step()).isEqualTo(96);
    }
    // Killed after the checkpoint of step 8, in the middle of epoch 0 (12 steps per epoch), the
    // resumed run ends with the weights of a run that was not interrupted. Not bitwise: sgemm may
    // sum in another order for reloaded tensors; a wrong sample order moves weights by ~lr.
    Path uninterrupted = singleJvm(config, dir.resolve("uninterrupted"));
    double diff = maxWeightDifference(uninterrupted, out.resolve("checkpoints/last"));
    System.out.println("max weight difference, killed and resumed vs uninterrupted: " + diff);
    assertThat(diff).as("max |w_resumed - w_uninterrupted|").isLessThan(2e-5);
    List<Map<String, Object>> metrics = stepRecords(out.resolve("metrics.jsonl"));
    assertThat(metrics)
        .extracting(rec -> ((Number) rec.get("step")).intValue())
        .doesNotHaveDuplicates()
        .hasSize(96)
        .endsWith(96);
  }

  /** The command line of a process, from {@code /proc} (the JDK's view can be empty there). */
  private static String commandLine(ProcessHandle p) {
    try {
      return new String(Files.readAllBytes(Path.of("/proc/" + p.pid() + "/cmdline")))
          .replace('\0', ' ');
    } catch (java.io.IOException e) {
      return p.info().commandLine().orElse("");
    }
  }

  @Test
  void moreRanksThanExecutorsIsReportedBeforeTraining() throws Exception {
    spark = SparkSessions.forRanks("dtm-test", 2, 1024);
    long deadline = System.nanoTime() + 120_000_000_000L;
    while (spark.sparkContext().statusTracker().getExecutorInfos().length < 3
        && System.nanoTime() < deadline) {
      Thread.sleep(100);
    }
    Config config = config(12, "pretrain.distributed.executor-wait-seconds=1");
    assertThatThrownBy(() -> distributed(3, config, dir.resolve("x")))
        .isInstanceOf(ConfigError.class)
        .hasMessageContaining("--ranks 3 needs 3 executors (one per rank), but 2 registered");
    assertThat(dir.resolve("x/checkpoints")).doesNotExist();
  }

  @Test
  void aMistakeARankReportsFailsTheRunAtOnceWithoutRetries() throws Exception {
    spark = SparkSessions.forRanks("dtm-test", 2, 1024);
    Config config = config(16, "pretrain.distributed.max-retries=3");
    // A cache replays views of image shards; the embedded demo images are not shards.
    assertThatThrownBy(
            () ->
                DistributedPretrainJob.run(
                    new DistributedPretrainJob.Options(
                        IMAGES,
                        new DistributedPretrainJob.TargetSource(
                            dir.resolve("cache").toString(), null),
                        dir.resolve("run").toString(),
                        2,
                        false,
                        config),
                    spark))
        .isInstanceOf(ConfigError.class)
        .hasMessageStartingWith("--targets replays a cache computed from image shards");
    assertThat(dir.resolve("run/checkpoints")).doesNotExist();
  }

  @Test
  void anExistingRunIsNotOverwrittenWithoutResumeAndContinuesWithIt() throws Exception {
    Path out = dir.resolve("run");
    distributed(2, config(16, "pretrain.train.max-steps=2"), out);
    Config longer = config(16, "pretrain.train.max-steps=4");
    assertThatThrownBy(() -> distributed(2, longer, out))
        .isInstanceOf(ConfigError.class)
        .hasMessageContaining("pass --resume to continue it");

    DistributedPretrainJob.Result resumed =
        DistributedPretrainJob.run(
            new DistributedPretrainJob.Options(
                IMAGES,
                new DistributedPretrainJob.TargetSource(null, TEACHER.toString()),
                out.toString(),
                2,
                true,
                longer),
            spark);
    assertThat(resumed.finalStep()).isEqualTo(4);
    assertThat(stepRecords(out.resolve("metrics.jsonl")))
        .extracting(r -> ((Number) r.get("step")).intValue())
        .containsExactly(1, 2, 3, 4);
  }

  @Test
  void twoRanksTrainFromATargetCacheWithHalfPrecisionOnTheWire() throws Exception {
    spark = SparkSessions.forRanks("dtm-test", 2, 1024);
    Path shards = dir.resolve("shards");
    IdxImport.Builder imported =
        IdxImport.Options.builder()
            .setOutput(new org.apache.hadoop.fs.Path(shards.toUri()))
            .optRowsPerShard(24);
    Datasets.idxImportSplit(IMAGES, "train").ifPresent(imported::addSplit);
    IdxImport.run(imported.build());
    // Half precision on the wire, as a user would choose on a slow network.
    Config config = config(16, "pretrain.train.max-steps=4", "pretrain.distributed.wire=fp16");
    PretrainSettings settings = PretrainSettings.from(config);
    Path cache = dir.resolve("cache");
    TargetsJob.run(
        new TargetsJob.Options(
            shards.toString(),
            "train",
            TEACHER.toString(),
            cache.toString(),
            2,
            false,
            "fp16",
            16,
            settings.teacher().normalization(),
            settings.teacher().useTokenHead(),
            32,
            8,
            settings.augment(),
            settings.seed(),
            "fp16",
            ShardWriteOptions.DEFAULTS,
            false,
            false),
        spark);

    DistributedPretrainJob.Result r =
        DistributedPretrainJob.run(
            new DistributedPretrainJob.Options(
                "shards:" + shards + "#train",
                new DistributedPretrainJob.TargetSource(cache.toString(), null),
                dir.resolve("run").toString(),
                2,
                false,
                config),
            spark);
    assertThat(r.finalStep()).isEqualTo(4);
    assertThat(r.finalLoss()).isFinite();
    try (NDManager m = NDManager.newBaseManager()) {
      assertThat(ModelCheckpoints.load(dir.resolve("run/checkpoints/last"), m).step()).isEqualTo(4);
    }
  }
}
