package org.dtmspark.data.image;

import java.io.Serializable;

/**
 * What {@link ImageInspector} may change in the images it accepts.
 *
 * @param reencodeAll re-encode every accepted image as JPEG, even when nothing requires it
 * @param resizeShorterSide when above 0, images whose shorter side is longer are scaled down so
 *     that it becomes this many pixels (aspect ratio kept) and re-encoded as JPEG; 0 never resizes
 * @param jpegQuality quality of every JPEG the inspector writes, in {@code (0, 1]}
 */
public record InspectOptions(boolean reencodeAll, int resizeShorterSide, float jpegQuality)
    implements Serializable {
  /** The default JPEG quality, 0.95. */
  public static final float DEFAULT_JPEG_QUALITY = 0.95f;

  /** Keep original bytes whenever possible, never resize, quality 0.95 for repairs. */
  public static final InspectOptions DEFAULTS = new InspectOptions(false, 0, DEFAULT_JPEG_QUALITY);

  public InspectOptions {
    if (resizeShorterSide < 0) {
      throw new IllegalArgumentException(
          "Shorter side to resize to must be at least 0 (0 = never resize), cannot be: "
              + resizeShorterSide);
    }
    if (!(jpegQuality > 0f && jpegQuality <= 1f)) {
      throw new IllegalArgumentException(
          "JPEG quality must be in (0, 1], cannot be: " + jpegQuality);
    }
  }
}
