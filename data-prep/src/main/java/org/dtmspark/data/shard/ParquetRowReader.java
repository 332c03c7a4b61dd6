package org.dtmspark.data.shard;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.function.Function;
import java.util.function.LongConsumer;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.apache.parquet.HadoopReadOptions;
import org.apache.parquet.ParquetReadOptions;
import org.apache.parquet.column.Dictionary;
import org.apache.parquet.column.page.PageReadStore;
import org.apache.parquet.hadoop.ParquetFileReader;
import org.apache.parquet.hadoop.metadata.BlockMetaData;
import org.apache.parquet.hadoop.metadata.FileMetaData;
import org.apache.parquet.hadoop.util.HadoopInputFile;
import org.apache.parquet.io.ColumnIOFactory;
import org.apache.parquet.io.InputFile;
import org.apache.parquet.io.MessageColumnIO;
import org.apache.parquet.io.RecordReader;
import org.apache.parquet.io.api.Binary;
import org.apache.parquet.io.api.Converter;
import org.apache.parquet.io.api.GroupConverter;
import org.apache.parquet.io.api.PrimitiveConverter;
import org.apache.parquet.io.api.RecordMaterializer;
import org.apache.parquet.schema.LogicalTypeAnnotation;
import org.apache.parquet.schema.MessageType;
import org.apache.parquet.schema.PrimitiveType;
import org.apache.parquet.schema.Type;

/**
 * Streams rows of one type from one Parquet file, all row groups or given ones, all columns or a
 * projection, without a SparkSession. Holds one row group's column chunks in memory at a time.
 *
 * <p>Checks on open that the file carries the codec's format version and content, and the requested
 * columns with their types. Page checksums are verified. Not thread-safe. Public only so that the
 * other file formats of data-prep reuse it; not an API for users.
 *
 * @param <T> the row type
 */
public final class ParquetRowReader<T> implements Iterator<T>, AutoCloseable {
  private final Path path;
  private final ParquetFileReader reader;
  private final MessageColumnIO columnIO;
  private final FieldMaterializer<T> materializer;
  private final int[] groups;
  private final long rowCount;
  private int nextGroup;
  private RecordReader<T> records;
  private long remainingInGroup;

  private ParquetRowReader(
      Path path,
      ParquetFileReader reader,
      RowCodec<T> codec,
      MessageType requested,
      List<Integer> rowGroups) {
    this.path = path;
    this.reader = reader;
    List<BlockMetaData> blocks = reader.getRowGroups();
    this.groups = selectGroups(path, blocks.size(), rowGroups);
    long rows = 0;
    for (int g : groups) {
      rows += blocks.get(g).getRowCount();
    }
    this.rowCount = rows;
    FileMetaData meta = reader.getFooter().getFileMetaData();
    this.columnIO =
        new ColumnIOFactory(meta.getCreatedBy()).getColumnIO(requested, meta.getSchema(), true);
    this.materializer = new FieldMaterializer<>(codec, requested);
    reader.setRequestedSchema(requested);
  }

  /**
   * Opens {@code path} for reading.
   *
   * @param requested the columns to read: {@code codec.schema()} or a subset of its fields
   * @param rowGroups indices of the row groups to read, in this order; null for all in file order
   * @throws ShardFormatException when the file has another format version or content, or lacks a
   *     requested column
   */
  public static <T> ParquetRowReader<T> open(
      Configuration conf,
      Path path,
      RowCodec<T> codec,
      MessageType requested,
      List<Integer> rowGroups)
      throws IOException {
    return open(conf, path, codec, requested, rowGroups, null);
  }

  /**
   * Opens {@code path} for reading as {@link #open(Configuration, Path, RowCodec, MessageType,
   * List)} does, reporting every byte read from storage to {@code bytesRead} (null: no count).
   */
  public static <T> ParquetRowReader<T> open(
      Configuration conf,
      Path path,
      RowCodec<T> codec,
      MessageType requested,
      List<Integer> rowGroups,
      LongConsumer bytesRead)
      throws IOException {
    ParquetFileReader reader = openChecked(conf, path, codec, requested, bytesRead);
    try {
      return new ParquetRowReader<>(path, reader, codec, requested, rowGroups);
    } catch (RuntimeException e) {
      closeQuietly(reader, e);
      throw e;
    }
  }

  /**
   * Opens {@code path} for reading the row groups that {@code rowGroupsOf} chooses from the file's
   * key-value metadata (one footer read), reporting every byte read from storage to {@code
   * bytesRead} (null: no count).
   */
  public static <T> ParquetRowReader<T> open(
      Configuration conf,
      Path path,
      RowCodec<T> codec,
      MessageType requested,
      Function<Map<String, String>, List<Integer>> rowGroupsOf,
      LongConsumer bytesRead)
      throws IOException {
    ParquetFileReader reader = openChecked(conf, path, codec, requested, bytesRead);
    try {
      List<Integer> groups =
          rowGroupsOf.apply(reader.getFooter().getFileMetaData().getKeyValueMetaData());
      return new ParquetRowReader<>(path, reader, codec, requested, groups);
    } catch (RuntimeException e) {
      closeQuietly(reader, e);
      throw e;
    }
  }

  /** The row groups of {@code path}, after the same checks as {@link #open}. */
  public static List<RowGroupInfo> rowGroups(Configuration conf, Path path, RowCodec<?> codec)
      throws IOException {
    try (ParquetFileReader reader = openChecked(conf, path, codec, codec.schema())) {
      List<RowGroupInfo> infos = new ArrayList<>();
      long first = 0;
      for (BlockMetaData block : reader.getRowGroups()) {
        infos.add(
            new RowGroupInfo(infos.size(), first, block.getRowCount(), block.getCompressedSize()));
        first += block.getRowCount();
      }
      return List.copyOf(infos);
    }
  }

  /**
   * The key-value metadata of the footer of {@code path} (format version, content and whatever else
   * the writer stored), after the same checks as {@link #open}.
   */
  public static Map<String, String> keyValueMetadata(
      Configuration conf, Path path, RowCodec<?> codec) throws IOException {
    try (ParquetFileReader reader = openChecked(conf, path, codec, codec.schema())) {
      return Map.copyOf(reader.getFooter().getFileMetaData().getKeyValueMetaData());
    }
  }

  private static ParquetFileReader openChecked(
      Configuration conf, Path path, RowCodec<?> codec, MessageType requested) throws IOException {
    return openChecked(conf, path, codec, requested, null);
  }

  private static ParquetFileReader openChecked(
      Configuration conf,
      Path path,
      RowCodec<?> codec,
      MessageType requested,
      LongConsumer bytesRead)
      throws IOException {
    ParquetReadOptions options =
        HadoopReadOptions.builder(conf, path).usePageChecksumVerification(true).build();
    InputFile file = HadoopInputFile.fromPath(path, conf);
    ParquetFileReader reader =
        ParquetFileReader.open(
            bytesRead == null ? file : new CountingInputFile(file, bytesRead), options);
    try {
      check(path, reader.getFooter().getFileMetaData(), codec, requested);
      return reader;
    } catch (IOException | RuntimeException e) {
      closeQuietly(reader, e);
      throw e;
    }
  }

  /** Checks format version, content and the requested columns' types. */
  static void check(Path path, FileMetaData meta, RowCodec<?> codec, MessageType requested)
      throws ShardFormatException {
    Map<String, String> kv = meta.getKeyValueMetaData();
    String version = kv.get(codec.versionKey());
    if (version == null) {
      throw new ShardFormatException(
          "File "
              + path
              + " is not a dtm-spark "
              + codec.formatName()
              + ": its Parquet metadata has no "
              + codec.versionKey());
    }
    if (!version.equals(Integer.toString(codec.formatVersion()))) {
      throw new ShardFormatException(
          "File "
              + path
              + " has "
              + codec.formatName()
              + " format version "
              + version
              + "; this reader reads version "
              + codec.formatVersion()
              + codec.otherVersionAdvice(version));
    }
    String content = kv.get(codec.contentKey());
    if (!codec.content().equals(content)) {
      throw new ShardFormatException(
          "File " + path + " holds " + content + ", expected " + codec.content());
    }
    MessageType fileSchema = meta.getSchema();
    for (Type wanted : requested.getFields()) {
      String name = wanted.getName();
      Type found = fileSchema.containsField(name) ? fileSchema.getType(name) : null;
      if (found == null
          || !found.isPrimitive()
          || found.getRepetition() != wanted.getRepetition()
          || found.asPrimitiveType().getPrimitiveTypeName()
              != wanted.asPrimitiveType().getPrimitiveTypeName()) {
        throw new ShardFormatException(
            "File "
                + path
                + ": column "
                + name
                + " must be "
                + wanted
                + ", cannot be: "
                + (found == null ? "missing" : found.toString()));
      }
    }
  }

  private static int[] selectGroups(Path path, int count, List<Integer> rowGroups) {
    if (rowGroups == null) {
      int[] all = new int[count];
      Arrays.setAll(all, i -> i);
      return all;
    }
    int[] chosen = new int[rowGroups.size()];
    BitSet seen = new BitSet(count);
    for (int i = 0; i < chosen.length; i++) {
      Integer g = rowGroups.get(i);
      if (g == null || g < 0 || g >= count) {
        throw new IllegalArgumentException(
            "Row group index for " + path + " must be in [0, " + count + "), cannot be: " + g);
      }
      if (seen.get(g)) {
        throw new IllegalArgumentException(
            "Row group indices for " + path + " must be distinct, cannot repeat: " + g);
      }
      seen.set(g);
      chosen[i] = g;
    }
    return chosen;
  }

  /** Rows this reader returns in all: the rows of its row groups. */
  public long rowCount() {
    return rowCount;
  }

  @Override
  public boolean hasNext() {
    while (remainingInGroup == 0) {
      if (nextGroup >= groups.length) {
        return false;
      }
      int group = groups[nextGroup++];
      try {
        PageReadStore pages = reader.readRowGroup(group);
        remainingInGroup = pages.getRowCount();
        records = columnIO.getRecordReader(pages, materializer);
      } catch (IOException e) {
        throw new UncheckedIOException(
            "Cannot read row group " + group + " of " + path + ": " + e.getMessage(), e);
      }
    }
    return true;
  }

  @Override
  public T next() {
    if (!hasNext()) {
      throw new NoSuchElementException("No more rows in " + path);
    }
    remainingInGroup--;
    return records.read();
  }

  @Override
  public void close() throws IOException {
    reader.close();
  }

  private static void closeQuietly(ParquetFileReader reader, Throwable cause) {
    try {
      reader.close();
    } catch (IOException | RuntimeException e) {
      cause.addSuppressed(e);
    }
  }

  /** Collects one record's field values into an array indexed by the codec's schema. */
  private static final class FieldMaterializer<T> extends RecordMaterializer<T> {
    private final RowCodec<T> codec;
    private final Object[] values;
    private final GroupConverter root;

    FieldMaterializer(RowCodec<T> codec, MessageType requested) {
      this.codec = codec;
      MessageType full = codec.schema();
      this.values = new Object[full.getFieldCount()];
      Converter[] converters = new Converter[requested.getFieldCount()];
      for (int i = 0; i < converters.length; i++) {
        PrimitiveType type = requested.getType(i).asPrimitiveType();
        int slot = full.getFieldIndex(type.getName());
        boolean text =
            type.getLogicalTypeAnnotation()
                instanceof LogicalTypeAnnotation.StringLogicalTypeAnnotation;
        converters[i] = new ValueConverter(values, slot, text);
      }
      this.root =
          new GroupConverter() {
            @Override
            public Converter getConverter(int fieldIndex) {
              return converters[fieldIndex];
            }

            @Override
            public void start() {
              Arrays.fill(values, null);
            }

            @Override
            public void end() {}
          };
    }

    @Override
    public T getCurrentRecord() {
      return codec.read(values);
    }

    @Override
    public GroupConverter getRootConverter() {
      return root;
    }
  }

  /** Stores a column's value: Long, Integer, Float, Boolean, String (UTF-8 columns) or byte[]. */
  private static final class ValueConverter extends PrimitiveConverter {
    private final Object[] values;
    private final int slot;
    private final boolean text;
    private String[] dictionary;

    ValueConverter(Object[] values, int slot, boolean text) {
      this.values = values;
      this.slot = slot;
      this.text = text;
    }

    @Override
    public boolean hasDictionarySupport() {
      return text;
    }

    @Override
    public void setDictionary(Dictionary dict) {
      dictionary = new String[dict.getMaxId() + 1];
      for (int id = 0; id < dictionary.length; id++) {
        dictionary[id] = dict.decodeToBinary(id).toStringUsingUTF8();
      }
    }

    @Override
    public void addValueFromDictionary(int dictionaryId) {
      values[slot] = dictionary[dictionaryId];
    }

    @Override
    public void addLong(long value) {
      values[slot] = value;
    }

    @Override
    public void addInt(int value) {
      values[slot] = value;
    }

    @Override
    public void addFloat(float value) {
      values[slot] = value;
    }

    @Override
    public void addBoolean(boolean value) {
      values[slot] = value;
    }

    @Override
    public void addBinary(Binary value) {
      if (text) {
        values[slot] = value.toStringUsingUTF8();
      } else {
        byte[] bytes = value.getBytes();
        values[slot] = value.isBackingBytesReused() ? bytes.clone() : bytes;
      }
    }
  }
}
