package org.dtmspark.core.metrics;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.dtmspark.core.io.AtomicFiles;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.markers.SeriesMarkers;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Renders training curves to PNG with XChart, without a display. */
public final class CurvePlot {
  private static final Logger LOG = LoggerFactory.getLogger(CurvePlot.class);

  /** Width of rendered charts, in pixels. */
  public static final int WIDTH = 800;

  /** Height of rendered charts, in pixels. */
  public static final int HEIGHT = 500;

  /** Most points drawn per series; longer series are thinned. */
  public static final int MAX_POINTS = 2000;

  private CurvePlot() {}

  /**
   * Renders line series to a PNG file of {@link #WIDTH} x {@link #HEIGHT}, written atomically.
   * Points with a non-finite coordinate, and with {@code logY} points with {@code y <= 0}, are left
   * out; a series left empty is not drawn. A series longer than {@link #MAX_POINTS} is thinned to
   * every k-th point (the last one kept). On a linear y axis whose largest magnitude is below 0.1
   * or at least 1e4, values are drawn scaled by a power of ten named in the axis title (e.g. {@code
   * x 1e-3}): XChart 3.8 puts its ticks at data values when consecutive differences are all within
   * 1e-4 of each other, which small values such as learning rates always are.
   *
   * @param series name to {@code [xs, ys]}, two arrays of equal length
   * @param logY whether the y axis is logarithmic
   */
  public static void renderPng(
      Path out, String title, String xLabel, Map<String, double[][]> series, boolean logY)
      throws IOException {
    if (System.getProperty("java.awt.headless") == null) {
      System.setProperty("java.awt.headless", "true");
    }
    XYChart chart = chart(title, xLabel, series, logY);
    byte[] png = BitmapEncoder.getBitmapBytes(chart, BitmapEncoder.BitmapFormat.PNG);
    AtomicFiles.writeAtomically(out, stream -> stream.write(png));
  }

  /** The chart {@link #renderPng} draws. */
  static XYChart chart(String title, String xLabel, Map<String, double[][]> series, boolean logY) {
    Map<String, double[][]> drawn = new LinkedHashMap<>();
    double maxAbs = 0;
    for (Map.Entry<String, double[][]> e : series.entrySet()) {
      double[][] xy = e.getValue();
      if (xy.length != 2 || xy[0].length != xy[1].length) {
        throw new IllegalArgumentException(
            "Series "
                + e.getKey()
                + " must be [xs, ys] of equal length, cannot be: "
                + xy.length
                + " arrays"
                + (xy.length == 2 ? " of lengths " + xy[0].length + " and " + xy[1].length : ""));
      }
      double[][] kept = drawablePoints(xy, logY);
      if (kept[0].length == 0) {
        LOG.info("Series {} of chart {} has no point to draw", e.getKey(), title);
        continue;
      }
      for (double y : kept[1]) {
        maxAbs = Math.max(maxAbs, Math.abs(y));
      }
      drawn.put(e.getKey(), kept);
    }
    int exponent = 0;
    if (!logY && maxAbs > 0 && (maxAbs < 0.1 || maxAbs >= 1e4)) {
      exponent = (int) Math.floor(Math.log10(maxAbs));
    }
    double scale = Math.pow(10, -exponent);
    XYChart chart =
        new XYChartBuilder()
            .width(WIDTH)
            .height(HEIGHT)
            .title(title)
            .xAxisTitle(xLabel)
            .yAxisTitle(exponent == 0 ? "" : "x 1e" + exponent)
            .build();
    chart.getStyler().setYAxisLogarithmic(logY);
    chart.getStyler().setLegendVisible(drawn.size() > 1);
    chart.getStyler().setDefaultSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Line);
    for (Map.Entry<String, double[][]> e : drawn.entrySet()) {
      double[] ys = e.getValue()[1].clone();
      for (int i = 0; i < ys.length; i++) {
        ys[i] *= scale;
      }
      chart.addSeries(e.getKey(), e.getValue()[0], ys).setMarker(SeriesMarkers.NONE);
    }
    return chart;
  }

  private static double[][] drawablePoints(double[][] xy, boolean logY) {
    List<double[]> points = new ArrayList<>();
    for (int i = 0; i < xy[0].length; i++) {
      double x = xy[0][i];
      double y = xy[1][i];
      if (Double.isFinite(x) && Double.isFinite(y) && (!logY || y > 0)) {
        points.add(new double[] {x, y});
      }
    }
    int stride = (points.size() + MAX_POINTS - 1) / MAX_POINTS;
    List<double[]> thinned = new ArrayList<>();
    for (int i = 0; i < points.size(); i += Math.max(stride, 1)) {
      thinned.add(points.get(i));
    }
    if (!points.isEmpty() && thinned.get(thinned.size() - 1) != points.get(points.size() - 1)) {
      thinned.add(points.get(points.size() - 1));
    }
    double[][] out = new double[2][thinned.size()];
    for (int i = 0; i < thinned.size(); i++) {
      out[0][i] = thinned.get(i)[0];
      out[1][i] = thinned.get(i)[1];
    }
    return out;
  }

  /**
   * Renders {@code loss.png} (y logarithmic when every loss is positive and they span at least a
   * factor of 10) and {@code lr.png} into {@code outDir} from a metrics file, using records that
   * hold numeric {@code step} and {@code loss} (resp. {@code lr}); other records are ignored.
   *
   * @return the files written: a chart with no point is not written
   */
  public static List<Path> renderTrainingCurves(Path metricsJsonl, Path outDir) throws IOException {
    List<Map<String, Object>> records = MetricsLog.read(metricsJsonl);
    Files.createDirectories(outDir);
    List<Path> written = new ArrayList<>();
    double[][] loss = column(records, "loss");
    if (loss[0].length > 0) {
      double min = Double.POSITIVE_INFINITY;
      double max = 0;
      for (double v : loss[1]) {
        min = Math.min(min, v);
        max = Math.max(max, v);
      }
      boolean logY = min > 0 && max / min >= 10;
      Path file = outDir.resolve("loss.png");
      renderPng(file, "Training loss", "step", single("loss", loss), logY);
      written.add(file);
    }
    double[][] lr = column(records, "lr");
    if (lr[0].length > 0) {
      Path file = outDir.resolve("lr.png");
      renderPng(file, "Learning rate", "step", single("lr", lr), false);
      written.add(file);
    }
    return written;
  }

  private static Map<String, double[][]> single(String name, double[][] xy) {
    Map<String, double[][]> m = new LinkedHashMap<>();
    m.put(name, xy);
    return m;
  }

  private static double[][] column(List<Map<String, Object>> records, String key) {
    List<double[]> points = new ArrayList<>();
    for (Map<String, Object> r : records) {
      if (r.get("step") instanceof Number step && r.get(key) instanceof Number value) {
        points.add(new double[] {step.doubleValue(), value.doubleValue()});
      }
    }
    double[][] xy = new double[2][points.size()];
    for (int i = 0; i < points.size(); i++) {
      xy[0][i] = points.get(i)[0];
      xy[1][i] = points.get(i)[1];
    }
    return xy;
  }
}
