package org.dtmspark.data.shard;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Iterator;
import java.util.List;
import java.util.function.LongConsumer;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;

/**
 * Streams the rows of one image shard from any Hadoop filesystem without a SparkSession: for use
 * inside training tasks, checks and tools.
 *
 * <p>Reads every row group or given ones ({@link ShardReadOptions#rowGroups()}), with or without
 * the image bytes. Memory: the column chunks of one row group at a time. On open it checks that the
 * file is an image shard of format version {@value ImageShardSchema#FORMAT_VERSION}. Iteration
 * errors surface as {@link UncheckedIOException} naming the file and row group. Not thread-safe.
 *
 * <pre>{@code
 * ShardReadOptions groupTwo = ShardReadOptions.ALL.withRowGroups(List.of(2));
 * try (ShardReader reader = ShardReader.open(conf, path, groupTwo)) {
 *   while (reader.hasNext()) {
 *     ImageRow row = reader.next();
 *   }
 * }
 * }</pre>
 */
public final class ShardReader implements Iterator<ImageRow>, AutoCloseable {
  private final ParquetRowReader<ImageRow> rows;

  private ShardReader(ParquetRowReader<ImageRow> rows) {
    this.rows = rows;
  }

  /** Opens {@code path} to read every row with every column. */
  public static ShardReader open(Configuration conf, Path path) throws IOException {
    return open(conf, path, ShardReadOptions.ALL);
  }

  /**
   * Opens {@code path} to read what {@code options} select.
   *
   * @throws ShardFormatException when the file is not an image shard of this format version
   * @throws IllegalArgumentException when a row-group index is out of range or repeated
   */
  public static ShardReader open(Configuration conf, Path path, ShardReadOptions options)
      throws IOException {
    return open(conf, path, options, null);
  }

  /**
   * Opens {@code path} to read what {@code options} select, reporting every byte read from storage
   * to {@code bytesRead} (null: no count).
   */
  public static ShardReader open(
      Configuration conf, Path path, ShardReadOptions options, LongConsumer bytesRead)
      throws IOException {
    return new ShardReader(
        ParquetRowReader.open(
            conf,
            path,
            ImageRowCodec.INSTANCE,
            options.includeImage() ? ImageShardSchema.SCHEMA : ImageShardSchema.WITHOUT_IMAGE,
            options.rowGroups(),
            bytesRead));
  }

  /**
   * The row groups of the shard at {@code path}, from its footer: what the training job splits its
   * work by.
   *
   * @throws ShardFormatException when the file is not an image shard of this format version
   */
  public static List<RowGroupInfo> rowGroups(Configuration conf, Path path) throws IOException {
    return ParquetRowReader.rowGroups(conf, path, ImageRowCodec.INSTANCE);
  }

  /** Rows this reader returns in all. */
  public long rowCount() {
    return rows.rowCount();
  }

  @Override
  public boolean hasNext() {
    return rows.hasNext();
  }

  @Override
  public ImageRow next() {
    return rows.next();
  }

  @Override
  public void close() throws IOException {
    rows.close();
  }
}
