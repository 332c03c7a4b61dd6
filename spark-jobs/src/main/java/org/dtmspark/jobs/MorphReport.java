package org.dtmspark.jobs;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The result of {@code dtm morph} on token arrays.
 *
 * @param levels per level: r, k and, per image, the clusters (lists of original positions)
 * @param loss DTM loss (cosine distance) of the online tokens against the targets, mean over levels
 */
public record MorphReport(List<Level> levels, double loss) {
  /** One level's clusters, {@code clusters[image][cluster]} = sorted original positions. */
  public record Level(int r, int k, List<List<List<Integer>>> clusters) {}

  /** {@code {"levels": [{"r": R, "k": K, "clusters": [...]}, ...], "loss": L}} */
  public String toJson() {
    Map<String, Object> json = new LinkedHashMap<>();
    json.put("levels", levels);
    json.put("loss", loss);
    try {
      return new ObjectMapper().writeValueAsString(json);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  /** One human-readable line per level. */
  public String summary() {
    StringBuilder sb = new StringBuilder();
    for (Level l : levels) {
      sb.append(
          String.format(
              "level r=%d k=%d: %d images, %d clusters in the first%n",
              l.r(), l.k(), l.clusters().size(), l.clusters().get(0).size()));
    }
    sb.append(String.format("loss (cosine distance): %.6f", loss));
    return sb.toString();
  }
}
