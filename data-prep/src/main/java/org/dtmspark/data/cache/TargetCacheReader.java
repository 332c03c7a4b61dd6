package org.dtmspark.data.cache;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Optional;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.dtmspark.data.shard.ParquetRowReader;
import org.dtmspark.data.shard.RowGroupInfo;
import org.dtmspark.data.shard.ShardFormatException;

/**
 * Streams the rows of one target-cache file from any Hadoop filesystem without a SparkSession, with
 * or without the tokens.
 *
 * <p>On open it checks that the file is a target-cache file of format version {@value
 * TargetCacheSchema#FORMAT_VERSION} ({@value TargetCacheSchema#VERSION_KEY}) and fails with a
 * {@link ShardFormatException} naming the file and the version otherwise. Memory: the column chunks
 * of one row group at a time. Iteration errors surface as {@link UncheckedIOException} naming the
 * file and row group. Not thread-safe.
 */
public final class TargetCacheReader implements Iterator<TargetRow>, AutoCloseable {
  private final ParquetRowReader<TargetRow> rows;

  private TargetCacheReader(ParquetRowReader<TargetRow> rows) {
    this.rows = rows;
  }

  /** Opens {@code path} to read every row with every column. */
  public static TargetCacheReader open(Configuration conf, Path path) throws IOException {
    return open(conf, path, true, null);
  }

  /**
   * Opens {@code path}.
   *
   * @param includeTokens whether to read the {@code tokens} column; without it rows have null
   *     tokens and only the small columns are read from storage
   * @param rowGroups indices of the row groups to read, in this order; null for all
   * @throws ShardFormatException when the file is not a target-cache file of this format version
   */
  public static TargetCacheReader open(
      Configuration conf, Path path, boolean includeTokens, List<Integer> rowGroups)
      throws IOException {
    return new TargetCacheReader(
        ParquetRowReader.open(
            conf,
            path,
            TargetRowCodec.INSTANCE,
            includeTokens ? TargetCacheSchema.SCHEMA : TargetCacheSchema.WITHOUT_TOKENS,
            rowGroups));
  }

  /** Every row of {@code path}, with or without tokens. */
  public static List<TargetRow> readAll(Configuration conf, Path path, boolean includeTokens)
      throws IOException {
    try (TargetCacheReader reader = open(conf, path, includeTokens, null)) {
      List<TargetRow> all = new ArrayList<>();
      reader.forEachRemaining(all::add);
      return all;
    }
  }

  /**
   * The row groups of the file at {@code path}, from its footer.
   *
   * @throws ShardFormatException when the file is not a target-cache file of this format version
   */
  public static List<RowGroupInfo> rowGroups(Configuration conf, Path path) throws IOException {
    return ParquetRowReader.rowGroups(conf, path, TargetRowCodec.INSTANCE);
  }

  /**
   * The settings recorded in the footer of the cache file at {@code path} ({@value
   * TargetCacheSettings#FILE_METADATA_KEY}); empty for a file written without them.
   *
   * @throws ShardFormatException when the file is not a target-cache file of this format version,
   *     or its settings are not valid
   */
  public static Optional<TargetCacheSettings> settings(Configuration conf, Path path)
      throws IOException {
    String json =
        ParquetRowReader.keyValueMetadata(conf, path, TargetRowCodec.INSTANCE)
            .get(TargetCacheSettings.FILE_METADATA_KEY);
    return json == null
        ? Optional.empty()
        : Optional.of(TargetCacheSettings.fromJson(json, path.toString()));
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
  public TargetRow next() {
    return rows.next();
  }

  @Override
  public void close() throws IOException {
    rows.close();
  }
}
