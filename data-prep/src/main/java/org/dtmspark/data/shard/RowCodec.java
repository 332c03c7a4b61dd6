package org.dtmspark.data.shard;

import java.util.List;
import org.apache.parquet.io.api.RecordConsumer;
import org.apache.parquet.schema.MessageType;

/**
 * How one row type maps to a flat Parquet schema of primitive columns: the part that differs
 * between image shards, reject files and target caches; {@link ParquetRowWriter} and {@link
 * ParquetRowReader} do the rest.
 *
 * <p>Public only so that the other file formats of data-prep ({@code org.dtmspark.data.cache}) can
 * reuse the machinery; not an API for users.
 *
 * @param <T> the row type
 */
public interface RowCodec<T> {
  /** The value of {@link #contentKey()} in files of this row type. */
  String content();

  /** The file metadata key holding the format version; the shard format's by default. */
  default String versionKey() {
    return ImageShardSchema.VERSION_KEY;
  }

  /** The file metadata key holding {@link #content()}; the shard format's by default. */
  default String contentKey() {
    return ImageShardSchema.CONTENT_KEY;
  }

  /** The format version written and the only one read; the shard format's by default. */
  default int formatVersion() {
    return ImageShardSchema.FORMAT_VERSION;
  }

  /** The format's name in error messages, e.g. {@code shard}; {@code shard} by default. */
  default String formatName() {
    return "shard";
  }

  /**
   * What a reader says, after naming the version it found, about a file of another version (how to
   * rewrite it); empty by default.
   */
  default String otherVersionAdvice(String foundVersion) {
    return "";
  }

  /** The full schema, flat: every field a primitive column. */
  MessageType schema();

  /** Columns to write without dictionary encoding. */
  List<String> noDictionaryColumns();

  /**
   * Checks that {@code row} can be written, throwing {@link IllegalArgumentException} naming the
   * row and the field otherwise. Called before anything of the row is written.
   */
  void validate(T row);

  /** Writes the fields of {@code row} between the caller's startMessage and endMessage. */
  void write(T row, RecordConsumer out);

  /**
   * Builds a row from its field values, indexed by field index in {@link #schema()}: {@code Long},
   * {@code Integer}, {@code Float}, {@code Boolean}, {@code String} or {@code byte[]} by column
   * type; null for a null value or a column not read.
   */
  T read(Object[] fields);
}
