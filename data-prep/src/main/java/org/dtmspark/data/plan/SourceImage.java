package org.dtmspark.data.plan;

import java.io.Serializable;
import java.util.Comparator;

/**
 * One input file found by {@link InputScanner}: a candidate image, not yet read or validated.
 *
 * <p>A plain file's {@code location} is its qualified Hadoop path as {@link
 * org.apache.hadoop.fs.Path#toString()} writes it ({@code file:/data/train/n01440764/x.JPEG},
 * {@code hdfs://nn/...}, {@code s3a://bucket/...}); {@code new Path(location)} opens it. An archive
 * member's location is {@code <archive path>!/<member>} or {@code <archive path>!/<class
 * tar>!/<member>} (see {@link TarArchives#location}), and {@code offset} is where its bytes start
 * inside the outermost archive file, so {@link TarArchives#open} reads it with one seek.
 *
 * @param split the split, e.g. {@code train} or {@code val}
 * @param wnid the class (WordNet id or class directory name); {@code null} when unknown
 * @param key the file's stem, e.g. {@code n01440764_10026}
 * @param location where the bytes are, see above
 * @param size the number of bytes
 * @param offset for an archive member, the byte offset of its data in the outermost archive file;
 *     {@code -1} for a plain file
 */
public record SourceImage(
    String split, String wnid, String key, String location, long size, long offset)
    implements Serializable {

  /** The order of image ids and of every listing: split, wnid (unknown first), key, location. */
  public static final Comparator<SourceImage> ORDER =
      Comparator.comparing(SourceImage::split)
          .thenComparing(SourceImage::wnid, Comparator.nullsFirst(Comparator.naturalOrder()))
          .thenComparing(SourceImage::key)
          .thenComparing(SourceImage::location);

  /** Validates every field. */
  public SourceImage {
    requireName("Split", split);
    if (split.contains("/")) {
      throw new IllegalArgumentException("Split must not contain '/', cannot be: " + split);
    }
    if (wnid != null) {
      requireName("Wnid", wnid);
    }
    requireName("Image key", key);
    requireName("Image location", location);
    if (size < 0) {
      throw new IllegalArgumentException(
          "Image size in bytes must be at least 0, cannot be: " + size + " (" + location + ")");
    }
    if (offset < -1) {
      throw new IllegalArgumentException(
          "Image offset must be -1 (plain file) or at least 0, cannot be: "
              + offset
              + " ("
              + location
              + ")");
    }
  }

  /** A plain file (offset {@code -1}). */
  public SourceImage(String split, String wnid, String key, String location, long size) {
    this(split, wnid, key, location, size, -1);
  }

  /** Whether this image is a member of a tar archive. */
  public boolean inArchive() {
    return offset >= 0;
  }

  private static void requireName(String field, String value) {
    if (value == null || value.isBlank() || value.indexOf('\n') >= 0) {
      throw new IllegalArgumentException(
          field + " must be non-blank and on one line, cannot be: " + value);
    }
  }
}
