package org.dtmspark.cli;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDManager;
import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.util.Map;
import javax.imageio.ImageIO;
import org.dtmspark.core.data.RgbImage;
import org.dtmspark.core.nn.VisionTransformer;
import org.dtmspark.core.nn.VitConfig;
import org.dtmspark.core.train.ModelCheckpoints;
import org.dtmspark.data.Datasets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MorphImageTest {
  @TempDir Path dir;

  @Test
  void drawsTheClustersOfACheckpointsTokensOverAnImage() throws Exception {
    VitConfig config = new VitConfig("tiny", 28, 4, 3, 24, 1, 2, 48, 0.1, true, true, 16, 0, 0.0);
    Path checkpoint = dir.resolve("ckpt");
    try (NDManager m = NDManager.newBaseManager()) {
      VisionTransformer model = VisionTransformer.initialize(config, m, 3);
      ModelCheckpoints.save(
          checkpoint, model, null, 0, 1, Map.of("seed", 0), "test", "dtm-student");
    }
    RgbImage image = Datasets.open("demo:test?limit=1").image(0);
    Path input = dir.resolve("in.png");
    ImageIO.write(image.toBufferedImage(), "png", input.toFile());
    Path png = dir.resolve("clusters.png");

    DtmCliTest.Run r =
        DtmCliTest.run(
            "morph",
            "--image",
            input.toString(),
            "--checkpoint",
            checkpoint.toString(),
            "--level",
            "4:5",
            "--png",
            png.toString());

    assertThat(r.code()).as(r.err()).isZero();
    // 49 tokens, 5 iterations of 4 merges with the first token protected: 29 clusters.
    assertThat(r.out()).contains("29 clusters");
    BufferedImage drawn = ImageIO.read(png.toFile());
    assertThat(drawn.getWidth()).isGreaterThanOrEqualTo(448);
  }
}
