package org.dtmspark.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.stream.Stream;
import org.apache.spark.sql.SparkSession;
import org.dtmspark.data.idx.IdxImages;
import org.dtmspark.data.idx.IdxLabels;
import org.dtmspark.data.idx.IdxWriter;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code dtm import-idx} then {@code dtm targets} through the command line. */
class TargetsCommandTest {
  private static final String CLIP = "../dtm-core/src/test/resources/golden/clip";
  private static SparkSession spark;

  @TempDir Path dir;

  /** The command's own session finds this one: local[2], UI off, loopback. */
  @BeforeAll
  static void startSpark() {
    spark =
        SparkSession.builder()
            .master("local[2]")
            .appName("TargetsCommandTest")
            .config("spark.ui.enabled", "false")
            .config("spark.driver.host", "127.0.0.1")
            .getOrCreate();
  }

  @AfterAll
  static void stopSpark() {
    spark.stop();
  }

  record Run(int code, String out, String err) {}

  static Run run(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int code = DtmCli.execute(new PrintWriter(out, true), new PrintWriter(err, true), args);
    return new Run(code, out.toString(), err.toString());
  }

  private String[] targets(Path images, Path cache, String... extra) {
    String[] base = {
      "targets",
      "--images",
      images.toString(),
      "--teacher",
      CLIP,
      "--output",
      cache.toString(),
      "--views",
      "1",
      "--full-view",
      "--batch-size",
      "4",
      "--set",
      "seed=3"
    };
    String[] all = Arrays.copyOf(base, base.length + extra.length);
    System.arraycopy(extra, 0, all, base.length, extra.length);
    return all;
  }

  @Test
  void importsIdxImagesThenWritesTheirTargetCache() throws Exception {
    byte[] pixels = new byte[12 * 8 * 8];
    for (int i = 0; i < pixels.length; i++) {
      pixels[i] = (byte) (i * 13);
    }
    Path idxImages = dir.resolve("train-images-idx3-ubyte.gz");
    Path idxLabels = dir.resolve("train-labels-idx1-ubyte.gz");
    IdxWriter.writeImages(new IdxImages(12, 8, 8, pixels), idxImages, true);
    IdxWriter.writeLabels(IdxLabels.of(0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2), idxLabels, true);
    Path images = dir.resolve("images");
    Run imported =
        run(
            "import-idx",
            "--split",
            "train",
            "--images",
            idxImages.toString(),
            "--labels",
            idxLabels.toString(),
            "--rows-per-shard",
            "6",
            "--output",
            images.toString());
    assertThat(imported.code()).as(imported.err()).isZero();

    Path cache = dir.resolve("cache");
    Run first = run(targets(images, cache));
    assertThat(first.code()).as(first.err()).isZero();
    assertThat(first.out())
        .startsWith(
            "targets: 12 images (0 rejected), 24 rows [16, 20] in 2 files (2 written, 0 kept);"
                + " this run 12 images in ");
    assertThat(cache.resolve("_cache_meta.json")).exists();
    assertThat(cache.resolve("part-00000.parquet")).exists();
    assertThat(cache.resolve("part-00001.parquet")).exists();

    Run again = run(targets(images, cache));
    assertThat(again.code()).isEqualTo(2);
    assertThat(again.err())
        .contains("dtm targets: Output ")
        .contains("already holds a complete target cache");

    Run resumed = run(targets(images, cache, "--resume"));
    assertThat(resumed.code()).as(resumed.err()).isZero();
    assertThat(resumed.out())
        .startsWith("targets: already complete: 12 images (0 rejected), 24 rows");
    try (Stream<Path> files = Files.list(cache)) {
      assertThat(files.map(p -> p.getFileName().toString()).sorted().toList())
          .filteredOn(n -> !n.startsWith("."))
          .containsExactly("_cache_meta.json", "part-00000.parquet", "part-00001.parquet");
    }

    Path run = dir.resolve("student");
    Run pretrained =
        run(
            "pretrain",
            "--images",
            "shards:" + images + "#train",
            "--targets",
            cache.toString(),
            "--output",
            run.toString(),
            "--max-steps",
            "2",
            "--set",
            "seed=3",
            "--set",
            "model.size=tiny",
            "--set",
            "model.image-size=32",
            "--set",
            "model.patch-size=8",
            "--set",
            "model.embed-dim=24",
            "--set",
            "model.depth=1",
            "--set",
            "model.num-heads=2",
            "--set",
            "model.mlp-dim=48",
            "--set",
            "pretrain.masking.ratio=0.4",
            "--set",
            "pretrain.masking.min-block-patches=2",
            "--set",
            "pretrain.train.batch-size=4");
    assertThat(pretrained.code()).as(pretrained.err()).isZero();
    assertThat(pretrained.out()).contains("pretrain: 2 steps");
    assertThat(run.resolve("checkpoints/last/checkpoint.json")).exists();
  }

  @Test
  void helpNamesTheOptions() {
    Run r = run("targets", "--help");
    assertThat(r.code()).isZero();
    assertThat(r.out())
        .contains("Usage: dtm targets")
        .contains("--views=K")
        .contains("--full-view")
        .contains("--dtype=fp16|fp32")
        .contains("--resume")
        .contains("--gpu-dtype");
    assertThat(run("bench-targets", "--help").out()).contains("Usage: dtm bench-targets");
  }

  @Test
  void aTeacherIsRequired() {
    Run r =
        run(
            "targets",
            "--images",
            dir.toString(),
            "--output",
            dir.resolve("c").toString(),
            "--views",
            "1");
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err())
        .contains("targets needs a teacher: --teacher PATH or pretrain.teacher.checkpoint");
  }
}
