package org.dtmspark.data.shard;

import static org.apache.parquet.schema.LogicalTypeAnnotation.stringType;
import static org.apache.parquet.schema.PrimitiveType.PrimitiveTypeName.BINARY;
import static org.apache.parquet.schema.PrimitiveType.PrimitiveTypeName.INT32;
import static org.apache.parquet.schema.PrimitiveType.PrimitiveTypeName.INT64;

import java.util.List;
import org.apache.parquet.schema.MessageType;
import org.apache.parquet.schema.Type;
import org.apache.parquet.schema.Types;

/**
 * The Parquet schema of image shards, format version {@value #FORMAT_VERSION}.
 *
 * <p>Shards live under {@code <out>/<split>/part-NNNNN.parquet}. Each file's key-value metadata
 * holds {@value #VERSION_KEY} (the format version) and {@value #CONTENT_KEY} ({@value
 * #CONTENT_IMAGES} for image shards, {@value #CONTENT_REJECTS} for reject files); readers check
 * both. Columns, in file order:
 *
 * <pre>
 * required int64  image_id   dense, deterministic id of the image
 * required binary key (UTF8)        file stem, e.g. n01440764_10026
 * required binary split (UTF8)      train, val, ...
 * required int32  label      index into the sorted synset list, 0-based
 * required binary wnid (UTF8)       the class's synset id
 * required binary image      encoded bytes: the original file unless re-encoded
 * required binary format (UTF8)     format of the bytes in image: jpeg, png, ...
 * required int32  width      pixels, from a real decode
 * required int32  height     pixels, from a real decode
 * required binary sha256 (UTF8)     lower-case hex SHA-256 of image
 * optional binary source (UTF8)     original location of the input
 * optional binary reencoded (UTF8)  why the bytes were re-encoded; null when they are the original
 * </pre>
 */
public final class ImageShardSchema {
  /** The version written by this code and the only version its readers accept. */
  public static final int FORMAT_VERSION = 1;

  /** File metadata key holding the format version. */
  public static final String VERSION_KEY = "dtm.shard.format_version";

  /** File metadata key holding what the file contains. */
  public static final String CONTENT_KEY = "dtm.shard.content";

  /** Value of {@link #CONTENT_KEY} in image shards. */
  public static final String CONTENT_IMAGES = "images";

  /** Value of {@link #CONTENT_KEY} in reject files. */
  public static final String CONTENT_REJECTS = "rejects";

  public static final String IMAGE_ID = "image_id";
  public static final String KEY = "key";
  public static final String SPLIT = "split";
  public static final String LABEL = "label";
  public static final String WNID = "wnid";
  public static final String IMAGE = "image";
  public static final String FORMAT = "format";
  public static final String WIDTH = "width";
  public static final String HEIGHT = "height";
  public static final String SHA256 = "sha256";
  public static final String SOURCE = "source";
  public static final String REENCODED = "reencoded";

  /** The full schema of image shards. */
  public static final MessageType SCHEMA =
      Types.buildMessage()
          .required(INT64)
          .named(IMAGE_ID)
          .required(BINARY)
          .as(stringType())
          .named(KEY)
          .required(BINARY)
          .as(stringType())
          .named(SPLIT)
          .required(INT32)
          .named(LABEL)
          .required(BINARY)
          .as(stringType())
          .named(WNID)
          .required(BINARY)
          .named(IMAGE)
          .required(BINARY)
          .as(stringType())
          .named(FORMAT)
          .required(INT32)
          .named(WIDTH)
          .required(INT32)
          .named(HEIGHT)
          .required(BINARY)
          .as(stringType())
          .named(SHA256)
          .optional(BINARY)
          .as(stringType())
          .named(SOURCE)
          .optional(BINARY)
          .as(stringType())
          .named(REENCODED)
          .named("dtm_image");

  /** Every column except {@code image}: for manifests and checks that need no pixels. */
  public static final MessageType WITHOUT_IMAGE = without(SCHEMA, IMAGE);

  /** Columns written without dictionary encoding: unique or near-unique per row. */
  static final List<String> NO_DICTIONARY = List.of(IMAGE_ID, KEY, IMAGE, SHA256, SOURCE);

  private ImageShardSchema() {}

  /**
   * The file name of shard {@code index} in a split directory: {@code part-00000.parquet}.
   *
   * @param index shard number, at least 0
   */
  public static String shardFileName(int index) {
    if (index < 0) {
      throw new IllegalArgumentException("Shard index must be at least 0, cannot be: " + index);
    }
    return String.format("part-%05d.parquet", index);
  }

  /** {@code schema} without the top-level field {@code name}. */
  static MessageType without(MessageType schema, String name) {
    List<Type> kept = schema.getFields().stream().filter(f -> !f.getName().equals(name)).toList();
    return new MessageType(schema.getName(), kept);
  }
}
