package org.dtmspark.data.cache;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.LongConsumer;
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

  /**
   * Opens the rows of view {@code view} of the cache file at {@code path}: only the footer and the
   * row groups that {@value TargetCacheSchema#VIEW_GROUPS_KEY} gives to that view are read.
   *
   * @param bytesRead receives every byte read from storage; null for no count
   * @throws ShardFormatException when the file is not a target-cache file of this format version or
   *     its view map is missing or invalid; a view the file lacks has no rows
   */
  public static TargetCacheReader openView(
      Configuration conf, Path path, int view, boolean includeTokens, LongConsumer bytesRead)
      throws IOException {
    return openView(conf, path, view, includeTokens, bytesRead, List.of());
  }

  /**
   * Opens the rows of view {@code view} as {@link #openView(Configuration, Path, int, boolean,
   * LongConsumer)} does, first checking that the file holds exactly the views {@code expected} (in
   * file order; empty: no check).
   *
   * @throws ShardFormatException naming the file and both view lists when they differ
   */
  public static TargetCacheReader openView(
      Configuration conf,
      Path path,
      int view,
      boolean includeTokens,
      LongConsumer bytesRead,
      List<Integer> expected)
      throws IOException {
    try {
      return new TargetCacheReader(
          ParquetRowReader.open(
              conf,
              path,
              TargetRowCodec.INSTANCE,
              includeTokens ? TargetCacheSchema.SCHEMA : TargetCacheSchema.WITHOUT_TOKENS,
              kv -> {
                Map<Integer, List<Integer>> groups = viewGroups(path, kv);
                if (!expected.isEmpty() && !List.copyOf(groups.keySet()).equals(expected)) {
                  throw new UncheckedIOException(
                      new ShardFormatException(
                          "Cache file "
                              + path
                              + " holds views "
                              + groups.keySet()
                              + "; its cache holds views "
                              + expected
                              + " (views_per_image and the full view of "
                              + TargetCacheMeta.FILE_NAME
                              + "): the file belongs to another cache"));
                }
                return groups.getOrDefault(view, List.of());
              },
              bytesRead));
    } catch (UncheckedIOException e) {
      if (e.getCause() instanceof ShardFormatException format) {
        throw format;
      }
      throw e;
    }
  }

  /**
   * Parses the view map of a cache file's key-value metadata: view to its row groups.
   *
   * @throws UncheckedIOException wrapping a {@link ShardFormatException} naming the file when the
   *     map is missing or malformed
   */
  static Map<Integer, List<Integer>> viewGroups(Path path, Map<String, String> kv) {
    String text = kv.get(TargetCacheSchema.VIEW_GROUPS_KEY);
    if (text == null) {
      throw new UncheckedIOException(
          new ShardFormatException(
              "Cache file " + path + " has no " + TargetCacheSchema.VIEW_GROUPS_KEY + " metadata"));
    }
    Map<Integer, List<Integer>> groups = new LinkedHashMap<>();
    if (text.isEmpty()) {
      return groups;
    }
    for (String entry : text.split(";")) {
      String[] f = entry.split(":");
      try {
        int view = Integer.parseInt(f[0]);
        int first = Integer.parseInt(f[1]);
        int count = Integer.parseInt(f[2]);
        if (f.length != 3 || first < 0 || count < 0 || groups.containsKey(view)) {
          throw new NumberFormatException(entry);
        }
        List<Integer> list = new ArrayList<>(count);
        for (int g = first; g < first + count; g++) {
          list.add(g);
        }
        groups.put(view, List.copyOf(list));
      } catch (NumberFormatException | ArrayIndexOutOfBoundsException e) {
        throw new UncheckedIOException(
            new ShardFormatException(
                "Cache file "
                    + path
                    + ": "
                    + TargetCacheSchema.VIEW_GROUPS_KEY
                    + " must be view:first:count;..., cannot be: "
                    + text,
                e));
      }
    }
    return groups;
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
