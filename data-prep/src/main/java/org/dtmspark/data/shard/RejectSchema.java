package org.dtmspark.data.shard;

import static org.apache.parquet.schema.LogicalTypeAnnotation.stringType;
import static org.apache.parquet.schema.PrimitiveType.PrimitiveTypeName.BINARY;

import org.apache.hadoop.fs.Path;
import org.apache.parquet.schema.MessageType;
import org.apache.parquet.schema.Types;

/**
 * The Parquet schema of reject files: {@code <out>/_rejects/part-00000.parquet}, one row per input
 * that did not become an image row. Same metadata keys as image shards ({@link
 * ImageShardSchema#VERSION_KEY}, and {@link ImageShardSchema#CONTENT_KEY} = {@value
 * ImageShardSchema#CONTENT_REJECTS}).
 *
 * <pre>
 * required binary location (UTF8)
 * optional binary split (UTF8)
 * required binary reason (UTF8)
 * </pre>
 */
public final class RejectSchema {
  /** Directory of reject files under the output root. */
  public static final String DIRECTORY = "_rejects";

  public static final String LOCATION = "location";
  public static final String SPLIT = "split";
  public static final String REASON = "reason";

  /** The schema of reject files. */
  public static final MessageType SCHEMA =
      Types.buildMessage()
          .required(BINARY)
          .as(stringType())
          .named(LOCATION)
          .optional(BINARY)
          .as(stringType())
          .named(SPLIT)
          .required(BINARY)
          .as(stringType())
          .named(REASON)
          .named("dtm_reject");

  private RejectSchema() {}

  /** The reject file of the output at {@code root}: {@code <root>/_rejects/part-00000.parquet}. */
  public static Path path(Path root) {
    return new Path(new Path(root, DIRECTORY), ImageShardSchema.shardFileName(0));
  }
}
