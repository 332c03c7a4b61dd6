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
import org.dtmspark.core.config.ConfigLoader;
import org.dtmspark.data.Datasets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The demo's machinery on a slice of the embedded data; accuracy is not what this checks. */
class DemoJobTest {
  @TempDir Path dir;

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

  @Test
  void demoWritesAReportWithAllFourEncodersAndItsCurves() throws Exception {
    Config config = ConfigLoader.load(ConfigLoader.resource("conf/demo.conf"), List.of(), SMOKE);
    DemoJob.DemoResult r =
        DemoJob.run(
            config,
            Datasets.open("demo:train?limit=64"),
            Datasets.open("demo:test?limit=32"),
            dir.resolve("demo"));
    assertThat(r.rows()).hasSize(4);
    assertThat(r.rows())
        .extracting(DemoJob.Row::pretraining)
        .containsExactly(
            "supervised on labels (reference)",
            "DTM from the teacher",
            "token-wise distillation (r = 0)",
            "none (random initialisation)");
    for (DemoJob.Row row : r.rows()) {
      assertThat(row.probeValTop1()).isBetween(0.0, 1.0);
    }
    String report = Files.readString(r.report());
    assertThat(report).contains("| student | DTM from the teacher |");
    for (String png : List.of("pretrain-loss.png", "teacher-val-top1.png")) {
      BufferedImage image = ImageIO.read(dir.resolve("demo").resolve(png).toFile());
      assertThat(image.getWidth()).as(png).isGreaterThan(100);
    }
    JsonNode json = new ObjectMapper().readTree(dir.resolve("demo/demo-result.json").toFile());
    assertThat(json.get("rows")).hasSize(4);
    assertThat(Files.isDirectory(dir.resolve("demo/student-dtm/checkpoints/last"))).isTrue();
  }
}
