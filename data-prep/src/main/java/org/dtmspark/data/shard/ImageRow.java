package org.dtmspark.data.shard;

import java.util.Arrays;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * One row of an image shard (see {@link ImageShardSchema} for the meaning of each column).
 *
 * <p>The record takes ownership of {@code image} without copying it: callers must not modify the
 * array afterwards. Equality compares the image bytes by content.
 *
 * @param imageId dense, deterministic id, at least 0
 * @param key file stem
 * @param split split name
 * @param label class index, at least 0
 * @param wnid synset id of the class
 * @param image encoded image bytes; null only in rows read with a projection without images
 * @param format format of {@code image} (jpeg, png, ...)
 * @param width width in pixels, at least 1
 * @param height height in pixels, at least 1
 * @param sha256 lower-case hex SHA-256 of the image bytes (64 characters)
 * @param source original location of the input, or null
 * @param reencoded why the bytes were re-encoded, or null when they are the original file
 */
public record ImageRow(
    long imageId,
    String key,
    String split,
    int label,
    String wnid,
    byte[] image,
    String format,
    int width,
    int height,
    String sha256,
    String source,
    String reencoded) {
  private static final Pattern SHA256_HEX = Pattern.compile("[0-9a-f]{64}");

  public ImageRow {
    if (imageId < 0) {
      throw new IllegalArgumentException("Image id must be at least 0, cannot be: " + imageId);
    }
    requireText(key, "Image key");
    requireText(split, "Split of image " + key);
    requireText(wnid, "Wnid of image " + key);
    requireText(format, "Format of image " + key);
    if (label < 0) {
      throw new IllegalArgumentException(
          "Label of image " + key + " must be at least 0, cannot be: " + label);
    }
    if (width < 1 || height < 1) {
      throw new IllegalArgumentException(
          "Size of image " + key + " must be at least 1 x 1, cannot be: " + width + " x " + height);
    }
    if (sha256 == null || !SHA256_HEX.matcher(sha256).matches()) {
      throw new IllegalArgumentException(
          "SHA-256 of image "
              + key
              + " must be 64 lower-case hex digits, cannot be: "
              + (sha256 == null ? "null" : "'" + sha256 + "'"));
    }
  }

  private static void requireText(String value, String what) {
    if (value == null || value.isEmpty()) {
      throw new IllegalArgumentException(
          what + " must be a non-empty string, cannot be: " + (value == null ? "null" : "''"));
    }
  }

  /** This row without its image bytes, as read with a projection without images. */
  public ImageRow withoutImage() {
    return new ImageRow(
        imageId, key, split, label, wnid, null, format, width, height, sha256, source, reencoded);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof ImageRow r
        && imageId == r.imageId
        && label == r.label
        && width == r.width
        && height == r.height
        && key.equals(r.key)
        && split.equals(r.split)
        && wnid.equals(r.wnid)
        && Arrays.equals(image, r.image)
        && format.equals(r.format)
        && sha256.equals(r.sha256)
        && Objects.equals(source, r.source)
        && Objects.equals(reencoded, r.reencoded);
  }

  @Override
  public int hashCode() {
    int h = Objects.hash(imageId, key, split, label, wnid, format, width, height, sha256);
    return 31 * (31 * h + Objects.hash(source, reencoded)) + Arrays.hashCode(image);
  }

  @Override
  public String toString() {
    return "ImageRow[imageId="
        + imageId
        + ", key="
        + key
        + ", split="
        + split
        + ", label="
        + label
        + ", wnid="
        + wnid
        + ", image="
        + (image == null ? "null" : image.length + " bytes")
        + ", format="
        + format
        + ", width="
        + width
        + ", height="
        + height
        + ", sha256="
        + sha256
        + ", source="
        + source
        + ", reencoded="
        + reencoded
        + "]";
  }
}
