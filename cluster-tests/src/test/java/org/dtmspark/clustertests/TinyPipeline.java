package org.dtmspark.clustertests;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import javax.imageio.ImageIO;

/**
 * The pipeline the cluster tests submit, on tiny data: {@code shard} of 16 JPEGs in two classes
 * into 2 Parquet shards, {@code targets} of the golden 2-layer CLIP teacher (32 px, 16 tokens of
 * 20) for one view of each image, and {@code pretrain --ranks 2} of a 1-layer ViT from that cache
 * (global batch 4: 4 steps), each through {@code deploy/bin/dtm-submit} with options that fit small
 * containers; and the checks of what each writes.
 */
final class TinyPipeline {
  static final int IMAGES = 16;
  static final int STEPS = 4;

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Path TEACHER =
      SparkHome.REPOSITORY.resolve("dtm-core/src/test/resources/golden/clip");

  final Path input;
  final Path shards;
  final Path cache;
  final Path run;
  private final Path libtorchEnv;

  /** Writes the images and the libtorch env file under {@code dir}; outputs go there too. */
  TinyPipeline(Path dir) throws IOException {
    input = dir.resolve("imagenet");
    shards = dir.resolve("shards");
    cache = dir.resolve("targets");
    run = dir.resolve("run");
    SplittableRandom rng = new SplittableRandom(7);
    for (int i = 0; i < IMAGES; i++) {
      String wnid = i % 2 == 0 ? "n01" : "n02";
      BufferedImage image = new BufferedImage(40, 40, BufferedImage.TYPE_INT_RGB);
      for (int y = 0; y < 40; y++) {
        for (int x = 0; x < 40; x++) {
          int base = wnid.equals("n01") ? x * 6 : y * 6;
          int noise = rng.nextInt(32);
          image.setRGB(x, y, (base + noise) << 16 | (255 - base) << 8 | noise * 4);
        }
      }
      Path file = input.resolve("train").resolve(wnid).resolve(wnid + "_" + i + ".JPEG");
      Files.createDirectories(file.getParent());
      if (!ImageIO.write(image, "jpg", file.toFile())) {
        throw new IllegalStateException("no JPEG writer");
      }
    }
    // As deploy/gpu/build-djl-jni.sh writes it for a site libtorch: here DJL's CPU build, whose
    // JNI glue the cluster jar carries (flavour cpu), cached per run directory.
    libtorchEnv = dir.resolve("libtorch.env");
    Files.writeString(
        libtorchEnv,
        String.join(
            "\n",
            "PYTORCH_LIBRARY_PATH=" + SparkHome.libtorch(),
            "PYTORCH_VERSION=2.7.1",
            "PYTORCH_FLAVOR=cpu",
            "ENGINE_CACHE_DIR=" + dir.resolve("engine-cache"),
            ""));
  }

  /**
   * dtm-submit's options for two executors of one core and small memory, the jar, the libtorch and
   * the test's spark-submit, then {@code extra} (the target, master, deploy mode, --conf).
   */
  List<String> submitOptions(Path sparkHome, List<String> extra) {
    List<String> options =
        new ArrayList<>(
            List.of(
                "--jar",
                SparkHome.CLUSTER_JAR.toString(),
                "--libtorch-env",
                libtorchEnv.toString(),
                "--spark-submit",
                sparkHome.resolve("bin/spark-submit").toString(),
                "--executors",
                "2",
                "--executor-cores",
                "1",
                "--gpus-per-executor",
                "0",
                "--executor-memory",
                "640m",
                "--executor-memory-overhead",
                "384m",
                "--driver-memory",
                "640m",
                "--driver-cores",
                "1",
                "--conf",
                "spark.ui.enabled=false",
                // Two executors and the driver share this machine's cores.
                "--conf",
                "spark.executor.extraJavaOptions=-Dai.djl.pytorch.num_threads=1"));
    options.addAll(extra);
    return options;
  }

  List<String> shard() {
    return List.of(
        "shard",
        "--input",
        input.toString(),
        "--output",
        shards.toString(),
        "--splits",
        "train",
        "--shards",
        "2");
  }

  List<String> targets() {
    return List.of(
        "targets",
        "--images",
        shards.toString(),
        "--split",
        "train",
        "--teacher",
        TEACHER.toString(),
        "--output",
        cache.toString(),
        "--views",
        "1",
        "--batch-size",
        "4",
        "--set",
        "seed=3");
  }

  List<String> pretrain() {
    List<String> args =
        new ArrayList<>(
            List.of(
                "pretrain",
                "--images",
                "shards:" + shards + "#train",
                "--targets",
                cache.toString(),
                "--ranks",
                "2",
                "--output",
                run.toString()));
    for (String set :
        List.of(
            "seed=3",
            "model.size=tiny",
            "model.image-size=32",
            "model.patch-size=8",
            "model.embed-dim=24",
            "model.depth=1",
            "model.num-heads=2",
            "model.mlp-dim=48",
            "pretrain.masking.ratio=0.4",
            "pretrain.masking.min-block-patches=2",
            "pretrain.optim.warmup-epochs=1",
            "pretrain.train.epochs=1",
            "pretrain.train.batch-size=4",
            "pretrain.train.log-every-steps=1")) {
      args.add("--set");
      args.add(set);
    }
    return args;
  }

  /** Runs {@code deploy/bin/dtm-submit OPTIONS -- SUBCOMMAND...} with {@code env}. */
  static Processes.Result submit(
      Path work, Map<String, String> env, List<String> options, List<String> subcommand)
      throws IOException, InterruptedException {
    List<String> command = new ArrayList<>();
    command.add("bash");
    command.add(SparkHome.DTM_SUBMIT.toString());
    command.addAll(options);
    command.add("--");
    command.addAll(subcommand);
    return Processes.run(work, env, command, 420);
  }

  /** Every image became a row of one of the 2 train shards; the manifest was written last. */
  void assertShards() throws IOException {
    JsonNode manifest = JSON.readTree(shards.resolve("_manifest.json").toFile());
    assertThat(manifest.at("/splits/train/images").asInt()).isEqualTo(IMAGES);
    assertThat(manifest.at("/rejects/total").asInt()).isZero();
    try (Stream<Path> files = Files.list(shards.resolve("train"))) {
      assertThat(files.map(p -> p.getFileName().toString()).sorted().toList())
          .filteredOn(n -> !n.startsWith("."))
          .containsExactly("part-00000.parquet", "part-00001.parquet");
    }
  }

  /** One row [16 tokens, 20] per image, in one cache file per shard, and the meta file. */
  void assertTargets() throws IOException {
    JsonNode meta = JSON.readTree(cache.resolve("_cache_meta.json").toFile());
    assertThat(meta.get("images").asInt()).isEqualTo(IMAGES);
    assertThat(meta.get("rejected_images").asInt()).isZero();
    assertThat(meta.get("rows").asInt()).isEqualTo(IMAGES);
    assertThat(meta.get("num_tokens").asInt()).isEqualTo(16);
    assertThat(meta.get("dim").asInt()).isEqualTo(20);
    assertThat(meta.get("files")).hasSize(2);
    for (JsonNode file : meta.get("files")) {
      assertThat(cache.resolve(file.asText())).isNotEmptyFile();
    }
  }

  /** The run reached its planned step on 2 ranks: a checkpoint and one metrics line per step. */
  void assertPretrain() throws IOException {
    assertThat(run.resolve("checkpoints/last/model.safetensors")).isNotEmptyFile();
    JsonNode checkpoint = JSON.readTree(run.resolve("checkpoints/last/checkpoint.json").toFile());
    assertThat(checkpoint.get("step").asInt()).isEqualTo(STEPS);
    // metrics.jsonl: a record per step, and a record per rank and epoch of the bytes it read
    List<JsonNode> records = new ArrayList<>();
    for (String line : Files.readAllLines(run.resolve("metrics.jsonl"))) {
      records.add(JSON.readTree(line));
    }
    List<JsonNode> steps = records.stream().filter(r -> r.has("step")).toList();
    assertThat(steps).hasSize(STEPS);
    JsonNode last = steps.get(STEPS - 1);
    assertThat(last.get("step").asInt()).isEqualTo(STEPS);
    assertThat(last.get("loss").asDouble()).isFinite().isPositive();
    assertThat(
            records.stream().filter(r -> r.has("image_bytes_read")).map(r -> r.get("rank").asInt()))
        .contains(0, 1);
  }
}
