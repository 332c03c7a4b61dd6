package org.dtmspark.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.typesafe.config.Config;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.SparkSession;
import org.dtmspark.core.config.ConfigLoader;
import org.dtmspark.core.data.ImageDataset;
import org.dtmspark.data.Datasets;
import org.dtmspark.data.idx.IdxClassNames;
import org.dtmspark.data.shard.Manifest;
import org.dtmspark.data.shard.ShardImageDataset;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The demo's machinery on a slice of the embedded data, run once for the class; accuracy is not
 * what this checks.
 */
class DemoJobTest {
  @TempDir static Path dir;

  static final List<String> SMOKE =
      List.of(
          "model.embed-dim=24",
          "model.depth=1",
          "model.num-heads=2",
          "model.mlp-dim=48",
          "finetune.train.epochs=1",
          "finetune.train.batch-size=16",
          "pretrain.train.epochs=1",
          "pretrain.train.batch-size=16",
          "probe.epochs=2");

  static Path out;
  static DemoJob.DemoResult result;

  @BeforeAll
  static void runDemo() throws Exception {
    Config config = ConfigLoader.load(ConfigLoader.resource("conf/demo.conf"), List.of(), SMOKE);
    out = dir.resolve("demo");
    // What a killed import leaves: a shard without a manifest.
    Files.createDirectories(out.resolve("data/train"));
    Files.write(out.resolve("data/train/part-00003.parquet"), new byte[] {1});
    SparkSession spark = SparkSessions.forRanks("DemoJobTest", 2, 1024);
    try {
      result = DemoJob.run(config, "demo:train?limit=64", "demo:test?limit=32", out, 2, spark);
    } finally {
      spark.stop();
    }
  }

  @Test
  void demoWritesAReportWithAllFourEncodersAndItsCurves() throws Exception {
    assertThat(result.rows()).hasSize(4);
    assertThat(result.rows())
        .extracting(DemoJob.Row::pretraining)
        .containsExactly(
            "supervised on labels (reference)",
            "DTM from the teacher",
            "token-wise distillation (r = 0)",
            "none (random initialisation)");
    for (DemoJob.Row row : result.rows()) {
      assertThat(row.probeValTop1()).isBetween(0.0, 1.0);
    }
    String report = Files.readString(result.report());
    assertThat(report).contains("| student | DTM from the teacher |");
    for (String png : List.of("pretrain-loss.png", "teacher-val-top1.png")) {
      BufferedImage image = ImageIO.read(out.resolve(png).toFile());
      assertThat(image.getWidth()).as(png).isGreaterThan(100);
    }
    JsonNode json = new ObjectMapper().readTree(out.resolve("demo-result.json").toFile());
    assertThat(json.get("rows")).hasSize(4);
    assertThat(Files.isDirectory(out.resolve("student-dtm/checkpoints/last"))).isTrue();
  }

  @Test
  void demoReadsTheEmbeddedSubsetThroughParquetShards() throws Exception {
    Configuration conf = new Configuration();
    org.apache.hadoop.fs.Path data = new org.apache.hadoop.fs.Path(out.resolve("data").toString());

    // The leftover of the unfinished import is gone; the manifest accounts for every image.
    assertThat(Files.exists(out.resolve("data/train/part-00003.parquet"))).isFalse();
    Manifest manifest = Manifest.read(conf, data);
    assertThat(manifest.accountsForEveryFile()).isTrue();
    assertThat(manifest.splits().get("train").images()).isEqualTo(64);
    assertThat(manifest.splits().get("test").images()).isEqualTo(32);
    assertThat(manifest.synsets())
        .isEqualTo(IdxClassNames.FASHION_MNIST.stream().sorted().toList());
    ShardImageDataset train = ShardImageDataset.open(conf, data, "train");
    assertThat(Files.readString(result.report()))
        .contains("Data: train `" + train.id() + "` (64 images)");

    // Both splits label by the same sorted names: row i of the shards is idx image imageId(i).
    ShardImageDataset test = ShardImageDataset.open(conf, data, "test");
    ImageDataset idxTrain = Datasets.open("demo:train?limit=64");
    ImageDataset idxTest = Datasets.open("demo:test?limit=32");
    assertThat(train.size()).isEqualTo(64);
    assertThat(test.size()).isEqualTo(32);
    for (int i = 0; i < train.size(); i++) {
      int index = (int) train.imageId(i);
      assertThat(manifest.synsets().get(train.label(i)))
          .isEqualTo(IdxClassNames.FASHION_MNIST.get(idxTrain.label(index)));
      assertThat(train.image(i)).isEqualTo(idxTrain.image(index));
    }
    for (int i = 0; i < test.size(); i++) {
      int index = (int) test.imageId(i) - 64;
      assertThat(manifest.synsets().get(test.label(i)))
          .isEqualTo(IdxClassNames.FASHION_MNIST.get(idxTest.label(index)));
    }
  }
}
