package org.dtmspark.data.cache;

import java.io.Serializable;
import java.util.Locale;
import org.dtmspark.core.data.AugmentConfig;
import org.dtmspark.core.data.ViewParams;
import org.dtmspark.core.data.ViewSampler;
import org.dtmspark.core.train.Seeds;

/**
 * The one rule that says which views of an image a target cache holds, and in which row order.
 *
 * <p>Sampled view {@code v} ({@code 0 <= v < K}) of the image with id {@code id} and source size
 * {@code w x h} is {@code new ViewSampler(augment).sample(w, h, Seeds.rng(seed, "cache-view", id,
 * v))}: a pure function of the seed, the augmentation settings, the image id and the view index,
 * independent of how images are split into shards, tasks or ranks. The full view ({@link
 * TargetCacheSchema#FULL_VIEW}) is {@link ViewParams#fullImage}: the whole image resized, no flip,
 * no jitter. An image's rows are its sampled views {@code 0..K-1}, then the full view when the
 * cache has it.
 *
 * <p>Immutable and serialisable: the targets job ships it to its tasks.
 *
 * @param augment the sampling settings (the {@code pretrain.augment} keys) and the size views are
 *     rendered at (the teacher's resolution)
 * @param seed the configured seed
 * @param viewsPerImage K, sampled views per image, at least 0
 * @param fullView whether each image also has the full view
 */
public record CacheViews(AugmentConfig augment, long seed, int viewsPerImage, boolean fullView)
    implements Serializable {
  private static final long serialVersionUID = 1L;

  /** The purpose under which {@link Seeds#rng} derives the stream of a cached view. */
  public static final String PURPOSE = "cache-view";

  public CacheViews {
    if (augment == null) {
      throw new IllegalArgumentException("Augmentation settings must be given, cannot be: null");
    }
    if (viewsPerImage < 0) {
      throw new IllegalArgumentException(
          "Views per image must be at least 0, cannot be: " + viewsPerImage);
    }
    if (viewsPerImage == 0 && !fullView) {
      throw new IllegalArgumentException(
          "A cache must hold at least one view per image: views per image is 0 without the full"
              + " view");
    }
  }

  /** Rows per image: K, plus one with the full view. */
  public int rowsPerImage() {
    return viewsPerImage + (fullView ? 1 : 0);
  }

  /**
   * The view index of an image's row {@code r}: {@code r} for {@code r < K}, then {@link
   * TargetCacheSchema#FULL_VIEW}.
   *
   * @param row in {@code [0, rowsPerImage())}
   */
  public int viewOfRow(int row) {
    if (row < 0 || row >= rowsPerImage()) {
      throw new IllegalArgumentException(
          "Row of an image must be in [0, " + rowsPerImage() + "), cannot be: " + row);
    }
    return row < viewsPerImage ? row : TargetCacheSchema.FULL_VIEW;
  }

  /**
   * The parameters of view {@code view} of an image.
   *
   * @param imageId the image's id in the image shards
   * @param view {@code 0..K-1}, or {@link TargetCacheSchema#FULL_VIEW} when the cache has it
   * @param width source width in pixels
   * @param height source height in pixels
   */
  public ViewParams view(long imageId, int view, int width, int height) {
    if (view == TargetCacheSchema.FULL_VIEW && fullView) {
      return ViewParams.fullImage(width, height);
    }
    if (view < 0 || view >= viewsPerImage) {
      throw new IllegalArgumentException(
          "View index must be in [0, "
              + viewsPerImage
              + ")"
              + (fullView ? " or " + TargetCacheSchema.FULL_VIEW + " (the full view)" : "")
              + ", cannot be: "
              + view);
    }
    return new ViewSampler(augment).sample(width, height, Seeds.rng(seed, PURPOSE, imageId, view));
  }

  /**
   * The policy in words, for {@code view_policy} in the cache meta: the sampling settings, the
   * render size, the seed rule and the views, e.g. {@code random-resized-crop scale=[0.2, 1.0]
   * ratio=[0.75, 1.3333333333333333] flip=0.5 jitter brightness=0.4 contrast=0.4 saturation=0.4 at
   * 224 px; view v of image id: ViewSampler(Seeds.rng(seed, "cache-view", id, v)); K=4 + full (view
   * -1: whole image resized, no flip, no jitter)}.
   */
  public String policy() {
    AugmentConfig a = augment;
    String views =
        "K="
            + viewsPerImage
            + (fullView
                ? " + full (view "
                    + TargetCacheSchema.FULL_VIEW
                    + ": whole image resized, no flip, no jitter)"
                : "");
    return String.format(
        Locale.ROOT,
        "random-resized-crop scale=[%s, %s] ratio=[%s, %s] flip=%s jitter brightness=%s"
            + " contrast=%s saturation=%s at %d px; view v of image id: ViewSampler(Seeds.rng(seed,"
            + " \"%s\", id, v)); %s",
        a.minScale(),
        a.maxScale(),
        a.minRatio(),
        a.maxRatio(),
        a.flipProbability(),
        a.brightness(),
        a.contrast(),
        a.saturation(),
        a.size(),
        PURPOSE,
        views);
  }
}
