package org.dtmspark.data.shard;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;

/**
 * Streams the rows of a reject file ({@link RejectSchema}), checking its format version on open.
 * Not thread-safe.
 */
public final class RejectReader implements Iterator<RejectRow>, AutoCloseable {
  private final ParquetRowReader<RejectRow> rows;

  private RejectReader(ParquetRowReader<RejectRow> rows) {
    this.rows = rows;
  }

  /**
   * Opens the reject file at {@code path}.
   *
   * @throws ShardFormatException when the file is not a reject file of this format version
   */
  public static RejectReader open(Configuration conf, Path path) throws IOException {
    return new RejectReader(
        ParquetRowReader.open(conf, path, RejectRowCodec.INSTANCE, RejectSchema.SCHEMA, null));
  }

  /** Every row of the reject file at {@code path}. */
  public static List<RejectRow> readAll(Configuration conf, Path path) throws IOException {
    try (RejectReader reader = open(conf, path)) {
      List<RejectRow> all = new ArrayList<>();
      reader.forEachRemaining(all::add);
      return all;
    }
  }

  /** Rows in the file. */
  public long rowCount() {
    return rows.rowCount();
  }

  @Override
  public boolean hasNext() {
    return rows.hasNext();
  }

  @Override
  public RejectRow next() {
    return rows.next();
  }

  @Override
  public void close() throws IOException {
    rows.close();
  }
}
