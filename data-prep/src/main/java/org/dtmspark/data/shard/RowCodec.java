package org.dtmspark.data.shard;

import java.util.List;
import org.apache.parquet.io.api.RecordConsumer;
import org.apache.parquet.schema.MessageType;

/**
 * How one row type maps to a flat Parquet schema of primitive columns: the part that differs
 * between image shards and reject files; {@link ParquetRowWriter} and {@link ParquetRowReader} do
 * the rest.
 *
 * @param <T> the row type
 */
interface RowCodec<T> {
  /** The value of {@link ImageShardSchema#CONTENT_KEY} in files of this row type. */
  String content();

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
   * {@code Integer}, {@code String} or {@code byte[]} by column type; null for a null value or a
   * column not read.
   */
  T read(Object[] fields);
}
