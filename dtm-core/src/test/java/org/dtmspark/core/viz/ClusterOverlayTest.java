package org.dtmspark.core.viz;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class ClusterOverlayTest {
  private static final Color GREY = new Color(128, 128, 128);

  /** 2x2 patches over a 56x56 grey image: patches 0 and 1 together, 2 and 3 singletons. */
  private static final List<List<Integer>> CLUSTERS =
      List.of(List.of(0, 1), List.of(2), List.of(3));

  @Test
  void scalesUpToAtLeastTheMinimumWidth() {
    BufferedImage out = ClusterOverlay.draw(grey(56, 42), 3, 4, singletons(12), 0.5f);
    assertThat(out.getWidth()).isEqualTo(448);
    assertThat(out.getHeight()).isEqualTo(336);
    BufferedImage large = ClusterOverlay.draw(grey(500, 500), 2, 2, CLUSTERS, 0.5f);
    assertThat(large.getWidth()).isEqualTo(500);
  }

  @Test
  void tintsPatchesWithTheirClusterColour() {
    BufferedImage out = ClusterOverlay.draw(grey(56, 56), 2, 2, CLUSTERS, 0.5f);
    int patch0 = out.getRGB(112, 112);
    int patch1 = out.getRGB(336, 112);
    assertThat(patch1).isEqualTo(patch0);
    assertThat(new Color(patch0)).isNotEqualTo(GREY);
    Color expected = blend(ClusterOverlay.clusterColor(0), GREY, 0.5f);
    assertThat(distance(new Color(patch0), expected)).isLessThanOrEqualTo(3);
    // Singletons are tinted more lightly: closer to the original grey than a merged patch.
    Color singleton = new Color(out.getRGB(112, 336));
    assertThat(distance(singleton, GREY)).isLessThan(distance(new Color(patch0), GREY));
    assertThat(distance(singleton, GREY)).isGreaterThan(0);
  }

  @Test
  void drawsBoundariesOnlyBetweenDifferentClusters() {
    BufferedImage out = ClusterOverlay.draw(grey(56, 56), 2, 2, CLUSTERS, 0.5f);
    // Between patches 0 and 1 (same cluster), at x = 224: no line.
    assertThat(new Color(out.getRGB(224, 112))).isNotEqualTo(ClusterOverlay.BOUNDARY);
    // Between patches 0 and 2, at y = 224, and between 2 and 3, at x = 224: lines.
    assertThat(new Color(out.getRGB(112, 224))).isEqualTo(ClusterOverlay.BOUNDARY);
    assertThat(new Color(out.getRGB(224, 336))).isEqualTo(ClusterOverlay.BOUNDARY);
  }

  @Test
  void consecutiveClustersGetDistinctColours() {
    Set<Integer> colours = new HashSet<>();
    for (int c = 0; c < 64; c++) {
      colours.add(ClusterOverlay.clusterColor(c).getRGB());
    }
    assertThat(colours).hasSize(64);
  }

  @Test
  void clustersMustPartitionTheGrid() {
    BufferedImage image = grey(56, 56);
    assertThatThrownBy(
            () -> ClusterOverlay.draw(image, 2, 2, List.of(List.of(0, 1), List.of(2)), 0.5f))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("Every patch position must be in a cluster, missing: 3");
    assertThatThrownBy(
            () -> ClusterOverlay.draw(image, 2, 2, List.of(List.of(0, 1, 2), List.of(2, 3)), 0.5f))
        .hasMessage(
            "Patch position must be in exactly one cluster, cannot be in clusters 0 and 1: 2");
    assertThatThrownBy(() -> ClusterOverlay.draw(image, 2, 2, List.of(List.of(0, 1, 2, 4)), 0.5f))
        .hasMessage("Patch position must be in [0, 4), cannot be: 4");
    assertThatThrownBy(() -> ClusterOverlay.draw(image, 2, 2, CLUSTERS, 1.5f))
        .hasMessage("Tint alpha must be in [0, 1], cannot be: 1.5");
  }

  private static List<List<Integer>> singletons(int n) {
    return IntStream.range(0, n).mapToObj(List::of).toList();
  }

  private static BufferedImage grey(int width, int height) {
    BufferedImage image = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = image.createGraphics();
    g.setColor(GREY);
    g.fillRect(0, 0, width, height);
    g.dispose();
    return image;
  }

  private static Color blend(Color top, Color bottom, float alpha) {
    return new Color(
        Math.round(top.getRed() * alpha + bottom.getRed() * (1 - alpha)),
        Math.round(top.getGreen() * alpha + bottom.getGreen() * (1 - alpha)),
        Math.round(top.getBlue() * alpha + bottom.getBlue() * (1 - alpha)));
  }

  private static int distance(Color a, Color b) {
    return Math.max(
        Math.abs(a.getRed() - b.getRed()),
        Math.max(Math.abs(a.getGreen() - b.getGreen()), Math.abs(a.getBlue() - b.getBlue())));
  }
}
