package org.dtmspark.core.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.knowm.xchart.XYChart;

class CurvePlotTest {
  @TempDir Path tmp;

  private static BufferedImage readPng(Path file) throws IOException {
    BufferedImage image = ImageIO.read(file.toFile());
    assertThat(image).as("decodable PNG %s", file).isNotNull();
    return image;
  }

  private static int distinctColours(BufferedImage image) {
    Set<Integer> colours = new HashSet<>();
    for (int y = 0; y < image.getHeight(); y += 2) {
      for (int x = 0; x < image.getWidth(); x += 2) {
        colours.add(image.getRGB(x, y));
      }
    }
    return colours.size();
  }

  @Test
  void rendersARealPngOfTheDocumentedSize() throws IOException {
    Path out = tmp.resolve("plots/curve.png");
    Map<String, double[][]> series = new LinkedHashMap<>();
    series.put("train", new double[][] {{0, 1, 2, 3}, {1.0, 0.6, 0.4, 0.3}});
    series.put("eval", new double[][] {{0, 2}, {1.1, 0.5}});

    CurvePlot.renderPng(out, "Loss", "step", series, true);

    BufferedImage image = readPng(out);
    assertThat(image.getWidth()).isEqualTo(CurvePlot.WIDTH);
    assertThat(image.getHeight()).isEqualTo(CurvePlot.HEIGHT);
    assertThat(distinctColours(image)).isGreaterThan(3);
    try (Stream<Path> files = Files.list(out.getParent())) {
      assertThat(files).containsExactly(out);
    }
  }

  @Test
  void logScaleDropsPointsItCannotDraw() throws IOException {
    Path out = tmp.resolve("log.png");
    Map<String, double[][]> series = new LinkedHashMap<>();
    series.put("lr", new double[][] {{0, 1, 2, 3}, {0, 1e-4, Double.NaN, 1e-3}});
    series.put("nothing", new double[][] {{0}, {-1}});
    CurvePlot.renderPng(out, "lr", "step", series, true);
    assertThat(readPng(out).getWidth()).isEqualTo(CurvePlot.WIDTH);
  }

  @Test
  void smallValuesAreDrawnScaledByAPowerOfTenNamedInTheAxisTitle() {
    Map<String, double[][]> series = Map.of("lr", new double[][] {{0, 1, 2}, {0, 7.5e-4, 1.5e-3}});
    XYChart chart = CurvePlot.chart("lr", "step", series, false);
    assertThat(chart.getYAxisTitle()).isEqualTo("x 1e-3");
    assertThat(chart.getSeriesMap().get("lr").getYData())
        .containsExactly(new double[] {0, 0.75, 1.5}, within(1e-12));

    XYChart plain =
        CurvePlot.chart("loss", "step", Map.of("loss", new double[][] {{0, 1}, {2, 0.5}}), false);
    assertThat(plain.getYAxisTitle()).isEmpty();
    assertThat(plain.getSeriesMap().get("loss").getYData()).containsExactly(2, 0.5);
  }

  @Test
  void longSeriesAreThinnedKeepingTheirEnds() {
    int n = 5 * CurvePlot.MAX_POINTS + 3;
    double[][] xy = new double[2][n];
    for (int i = 0; i < n; i++) {
      xy[0][i] = i;
      xy[1][i] = 1.0 / (i + 1);
    }
    XYChart chart = CurvePlot.chart("t", "step", Map.of("s", xy), true);
    double[] xs = chart.getSeriesMap().get("s").getXData();
    assertThat(xs.length).isBetween(CurvePlot.MAX_POINTS / 2, CurvePlot.MAX_POINTS + 1);
    assertThat(xs[0]).isEqualTo(0);
    assertThat(xs[xs.length - 1]).isEqualTo(n - 1);
  }

  @Test
  void seriesMustBeTwoArraysOfEqualLength() {
    Map<String, double[][]> series = Map.of("bad", new double[][] {{0, 1}, {1}});
    assertThatThrownBy(() -> CurvePlot.renderPng(tmp.resolve("x.png"), "t", "x", series, false))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage(
            "Series bad must be [xs, ys] of equal length, cannot be: 2 arrays of lengths 2 and 1");
    assertThat(tmp.resolve("x.png")).doesNotExist();
  }

  @Test
  void trainingCurvesComeFromRecordsWithStepLossAndLr() throws IOException {
    Path metrics = tmp.resolve("metrics.jsonl");
    Files.writeString(
        metrics,
        String.join(
            "\n",
            "{\"step\":1,\"loss\":0.9,\"lr\":0.0}",
            "{\"step\":2,\"loss\":0.7,\"lr\":0.001}",
            "{\"epoch\":0,\"eval_acc\":0.1}",
            "{\"step\":3,\"loss\":0.5,\"lr\":0.002}",
            ""));
    Path outDir = tmp.resolve("plots");

    List<Path> written = CurvePlot.renderTrainingCurves(metrics, outDir);

    assertThat(written).containsExactly(outDir.resolve("loss.png"), outDir.resolve("lr.png"));
    for (Path p : written) {
      BufferedImage image = readPng(p);
      assertThat(image.getWidth()).isEqualTo(CurvePlot.WIDTH);
      assertThat(image.getHeight()).isEqualTo(CurvePlot.HEIGHT);
    }
  }

  @Test
  void noTrainingRecordsMeansNoCharts() throws IOException {
    Path metrics = tmp.resolve("metrics.jsonl");
    Files.writeString(metrics, "{\"epoch\":0,\"eval_acc\":0.1}\n");
    assertThat(CurvePlot.renderTrainingCurves(metrics, tmp.resolve("plots"))).isEmpty();
    try (Stream<Path> files = Files.list(tmp.resolve("plots"))) {
      assertThat(files).isEmpty();
    }
  }
}
