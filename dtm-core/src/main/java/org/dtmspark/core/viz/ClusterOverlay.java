package org.dtmspark.core.viz;

import java.awt.AlphaComposite;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.util.Arrays;
import java.util.List;

/**
 * Draws token-morphing clusters over an image: each patch tinted with its cluster's colour, and a
 * line wherever two neighbouring patches belong to different clusters. Pure Java2D, safe in a
 * headless JVM.
 */
public final class ClusterOverlay {
  /** Output images are scaled up (by an integer factor) to at least this width. */
  public static final int MIN_WIDTH = 448;

  /** Colour of the lines between patches of different clusters. */
  public static final Color BOUNDARY = new Color(20, 20, 20);

  private static final double GOLDEN_RATIO_CONJUGATE = 0.6180339887498949;
  private static final float SINGLETON_ALPHA_FACTOR = 0.35f;

  private ClusterOverlay() {}

  /**
   * Colour of the {@code index}-th cluster: hues from the golden-ratio sequence, so that
   * consecutive clusters get well separated colours.
   */
  public static Color clusterColor(int index) {
    double hue = (0.11 + index * GOLDEN_RATIO_CONJUGATE) % 1.0;
    float saturation = index % 2 == 0 ? 0.85f : 0.65f;
    return Color.getHSBColor((float) hue, saturation, 0.95f);
  }

  /**
   * Draws the clusters over a copy of {@code image}, scaled up by the smallest integer factor that
   * makes it at least {@value #MIN_WIDTH} pixels wide (nearest neighbour).
   *
   * @param image the image the patch grid covers
   * @param gridH patch rows
   * @param gridW patch columns
   * @param clusters the clusters of one image; each lists row-major patch positions ({@code row *
   *     gridW + col}); together they must cover every position exactly once. Cluster {@code c} gets
   *     {@link #clusterColor}{@code (c)}; singletons are tinted more lightly.
   * @param alpha tint opacity in [0, 1]
   * @return a new RGB image
   */
  public static BufferedImage draw(
      BufferedImage image, int gridH, int gridW, List<List<Integer>> clusters, float alpha) {
    if (gridH < 1 || gridW < 1) {
      throw new IllegalArgumentException(
          "Patch grid must be at least 1x1, cannot be: " + gridH + "x" + gridW);
    }
    if (!(alpha >= 0f && alpha <= 1f)) {
      throw new IllegalArgumentException("Tint alpha must be in [0, 1], cannot be: " + alpha);
    }
    int[] clusterOf = clusterOfPatch(gridH * gridW, clusters);

    int scale = Math.max(1, (MIN_WIDTH + image.getWidth() - 1) / image.getWidth());
    int width = image.getWidth() * scale;
    int height = image.getHeight() * scale;
    BufferedImage out = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = out.createGraphics();
    try {
      g.setRenderingHint(
          RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_NEAREST_NEIGHBOR);
      g.drawImage(image, 0, 0, width, height, null);

      int[] xs = edges(width, gridW);
      int[] ys = edges(height, gridH);
      for (int row = 0; row < gridH; row++) {
        for (int col = 0; col < gridW; col++) {
          int cluster = clusterOf[row * gridW + col];
          boolean singleton = clusters.get(cluster).size() == 1;
          float a = singleton ? alpha * SINGLETON_ALPHA_FACTOR : alpha;
          g.setComposite(AlphaComposite.getInstance(AlphaComposite.SRC_OVER, a));
          g.setColor(clusterColor(cluster));
          g.fillRect(xs[col], ys[row], xs[col + 1] - xs[col], ys[row + 1] - ys[row]);
        }
      }

      g.setComposite(AlphaComposite.SrcOver);
      g.setColor(BOUNDARY);
      g.setStroke(new BasicStroke(Math.max(1f, scale / 2f)));
      for (int row = 0; row < gridH; row++) {
        for (int col = 0; col < gridW; col++) {
          int here = clusterOf[row * gridW + col];
          if (col + 1 < gridW && clusterOf[row * gridW + col + 1] != here) {
            g.drawLine(xs[col + 1], ys[row], xs[col + 1], ys[row + 1] - 1);
          }
          if (row + 1 < gridH && clusterOf[(row + 1) * gridW + col] != here) {
            g.drawLine(xs[col], ys[row + 1], xs[col + 1] - 1, ys[row + 1]);
          }
        }
      }
    } finally {
      g.dispose();
    }
    return out;
  }

  /** Pixel offsets of the {@code cells + 1} patch edges over {@code length} pixels. */
  private static int[] edges(int length, int cells) {
    int[] e = new int[cells + 1];
    for (int i = 0; i <= cells; i++) {
      e[i] = (int) Math.round((double) i * length / cells);
    }
    return e;
  }

  private static int[] clusterOfPatch(int numPatches, List<List<Integer>> clusters) {
    int[] clusterOf = new int[numPatches];
    Arrays.fill(clusterOf, -1);
    for (int c = 0; c < clusters.size(); c++) {
      for (int position : clusters.get(c)) {
        if (position < 0 || position >= numPatches) {
          throw new IllegalArgumentException(
              "Patch position must be in [0, " + numPatches + "), cannot be: " + position);
        }
        if (clusterOf[position] != -1) {
          throw new IllegalArgumentException(
              "Patch position must be in exactly one cluster, cannot be in clusters "
                  + clusterOf[position]
                  + " and "
                  + c
                  + ": "
                  + position);
        }
        clusterOf[position] = c;
      }
    }
    for (int position = 0; position < numPatches; position++) {
      if (clusterOf[position] == -1) {
        throw new IllegalArgumentException(
            "Every patch position must be in a cluster, missing: " + position);
      }
    }
    return clusterOf;
  }
}
