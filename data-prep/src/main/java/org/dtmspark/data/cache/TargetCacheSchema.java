package org.dtmspark.data.cache;

import static org.apache.parquet.schema.LogicalTypeAnnotation.stringType;
import static org.apache.parquet.schema.PrimitiveType.PrimitiveTypeName.BINARY;
import static org.apache.parquet.schema.PrimitiveType.PrimitiveTypeName.BOOLEAN;
import static org.apache.parquet.schema.PrimitiveType.PrimitiveTypeName.FLOAT;
import static org.apache.parquet.schema.PrimitiveType.PrimitiveTypeName.INT32;
import static org.apache.parquet.schema.PrimitiveType.PrimitiveTypeName.INT64;

import java.util.List;
import org.apache.parquet.schema.MessageType;
import org.apache.parquet.schema.Types;

/**
 * The Parquet schema of the target-token cache, format version {@value #FORMAT_VERSION}.
 *
 * <p>Files live under {@code <out>/part-NNNNN.parquet}, one row per (image, view). Each file's
 * key-value metadata holds {@value #VERSION_KEY} (the format version) and {@value #CONTENT_KEY}
 * ({@value #CONTENT_TARGETS}); readers check both.
 *
 * <p><b>Layout by view</b> (version 2). The rows of a file are ordered by view: every image's view
 * 0 (images in shard order), then every image's view 1, ..., view K-1, then the full views; a row
 * group holds the rows of one view only, and the key-value metadata {@value #VIEW_GROUPS_KEY} says
 * which: {@code view:first:count} per view in file order, separated by {@code ;} (e.g. {@code
 * 0:0:1;1:1:1;-1:2:1}). A reader that replays view {@code k} of a shard reads the footer and the
 * row groups of view {@code k}, nothing else. Version 1 stored an image's views together; it is
 * refused with the advice to rewrite the cache. Columns, in file order:
 *
 * <pre>
 * required int64   image_id      the image's id in the image shards
 * required binary  key (UTF8)    the image's key (file stem)
 * required int32   view          0..K-1 for the sampled views; -1 for the full-image view
 * required int32   crop_x        crop box in source pixels: left edge
 * required int32   crop_y        top edge
 * required int32   crop_width    width, at least 1
 * required int32   crop_height   height, at least 1
 * required boolean flip          mirrored horizontally after the resize
 * required float   brightness    colour-jitter factors; 1 leaves the image unchanged
 * required float   contrast
 * required float   saturation
 * required binary  jitter_order (UTF8)  order of the jitter operations, e.g. "2,0,1"
 *                                       (0 brightness, 1 contrast, 2 saturation)
 * required binary  tokens        little-endian fp16 or fp32, row-major [num_tokens, dim]
 * required int32   num_tokens    N, at least 1
 * required int32   dim           P, at least 1
 * required binary  dtype (UTF8)  fp16 or fp32: the element type of tokens
 * </pre>
 *
 * <p>The deterministic full-image view (whole image resized, no flip, no jitter: {@link
 * org.dtmspark.core.data.ViewParams#fullImage}) has view index {@value #FULL_VIEW}, so the sampled
 * views keep the indices {@code 0..K-1} whether or not it is present.
 */
public final class TargetCacheSchema {
  /** The version written by this code and the only version its readers accept. */
  public static final int FORMAT_VERSION = 2;

  /** File metadata key listing the row groups of every view (see the class comment). */
  public static final String VIEW_GROUPS_KEY = "dtm.cache.view_row_groups";

  /** File metadata key holding the format version. */
  public static final String VERSION_KEY = "dtm.cache.format_version";

  /** File metadata key holding what the file contains. */
  public static final String CONTENT_KEY = "dtm.cache.content";

  /** Value of {@link #CONTENT_KEY} in target-cache files. */
  public static final String CONTENT_TARGETS = "targets";

  /** The view index of the deterministic full-image view. */
  public static final int FULL_VIEW = -1;

  public static final String IMAGE_ID = "image_id";
  public static final String KEY = "key";
  public static final String VIEW = "view";
  public static final String CROP_X = "crop_x";
  public static final String CROP_Y = "crop_y";
  public static final String CROP_WIDTH = "crop_width";
  public static final String CROP_HEIGHT = "crop_height";
  public static final String FLIP = "flip";
  public static final String BRIGHTNESS = "brightness";
  public static final String CONTRAST = "contrast";
  public static final String SATURATION = "saturation";
  public static final String JITTER_ORDER = "jitter_order";
  public static final String TOKENS = "tokens";
  public static final String NUM_TOKENS = "num_tokens";
  public static final String DIM = "dim";
  public static final String DTYPE = "dtype";

  /** The full schema of target-cache files. */
  public static final MessageType SCHEMA =
      Types.buildMessage()
          .required(INT64)
          .named(IMAGE_ID)
          .required(BINARY)
          .as(stringType())
          .named(KEY)
          .required(INT32)
          .named(VIEW)
          .required(INT32)
          .named(CROP_X)
          .required(INT32)
          .named(CROP_Y)
          .required(INT32)
          .named(CROP_WIDTH)
          .required(INT32)
          .named(CROP_HEIGHT)
          .required(BOOLEAN)
          .named(FLIP)
          .required(FLOAT)
          .named(BRIGHTNESS)
          .required(FLOAT)
          .named(CONTRAST)
          .required(FLOAT)
          .named(SATURATION)
          .required(BINARY)
          .as(stringType())
          .named(JITTER_ORDER)
          .required(BINARY)
          .named(TOKENS)
          .required(INT32)
          .named(NUM_TOKENS)
          .required(INT32)
          .named(DIM)
          .required(BINARY)
          .as(stringType())
          .named(DTYPE)
          .named("dtm_targets");

  /** Every column except {@code tokens}: for checks and view replay that need no tokens. */
  public static final MessageType WITHOUT_TOKENS =
      new MessageType(
          SCHEMA.getName(),
          SCHEMA.getFields().stream().filter(f -> !f.getName().equals(TOKENS)).toList());

  /** Columns written without dictionary encoding: unique or near-unique per row. */
  static final List<String> NO_DICTIONARY = List.of(IMAGE_ID, KEY, TOKENS);

  private TargetCacheSchema() {}

  /** What to do with a cache of format version {@code found}, for error messages. */
  static String rewriteAdvice(String found) {
    return "1".equals(found)
        ? ": version 1 stores an image's views together, so a rank would read every view to replay"
            + " one; rewrite the cache in the layout by view with bin/dtm targets (same teacher,"
            + " images and settings) into a new --output, or the same one with --overwrite"
        : "";
  }

  /**
   * The file name of cache file {@code index}: {@code part-00000.parquet}.
   *
   * @param index file number, at least 0
   */
  public static String fileName(int index) {
    if (index < 0) {
      throw new IllegalArgumentException(
          "Cache file index must be at least 0, cannot be: " + index);
    }
    return String.format("part-%05d.parquet", index);
  }

  /**
   * The name of the cache file holding the targets of an image shard: the shard's own file name, so
   * that {@code <cache>/part-00003.parquet} holds the targets of {@code
   * <images>/<split>/part-00003.parquet}.
   *
   * @param imageShardPath the shard's path as the manifest lists it, e.g. {@code
   *     train/part-00003.parquet}
   */
  public static String fileFor(String imageShardPath) {
    String name = imageShardPath.substring(imageShardPath.lastIndexOf('/') + 1);
    if (!name.startsWith("part-") || !name.endsWith(".parquet")) {
      throw new IllegalArgumentException(
          "Image shard path must end in part-NNNNN.parquet, cannot be: " + imageShardPath);
    }
    return name;
  }
}
