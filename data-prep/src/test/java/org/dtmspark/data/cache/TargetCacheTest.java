package org.dtmspark.data.cache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileAlreadyExistsException;
import org.apache.hadoop.fs.Path;
import org.apache.parquet.io.api.RecordConsumer;
import org.apache.parquet.schema.MessageType;
import org.dtmspark.core.data.ViewParams;
import org.dtmspark.core.io.HalfFloats;
import org.dtmspark.data.shard.ParquetRowWriter;
import org.dtmspark.data.shard.RowCodec;
import org.dtmspark.data.shard.ShardFormatException;
import org.dtmspark.data.shard.ShardWriteOptions;
import org.dtmspark.data.shard.WrittenShard;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TargetCacheTest {
  private static final int N = 5;
  private static final int P = 7;

  @TempDir java.nio.file.Path dir;

  private final Configuration conf = new Configuration();

  private Path file(String name) {
    return new Path(dir.resolve(name).toUri());
  }

  /** Two images, two sampled views each plus the full view, random tokens in [-4, 4). */
  private static List<float[]> values(long seed) {
    SplittableRandom random = new SplittableRandom(seed);
    List<float[]> all = new ArrayList<>();
    for (int r = 0; r < 6; r++) {
      float[] v = new float[N * P];
      for (int i = 0; i < v.length; i++) {
        v[i] = (float) (random.nextDouble() * 8 - 4);
      }
      all.add(v);
    }
    return all;
  }

  private static ViewParams view(int image, int view) {
    if (view == TargetCacheSchema.FULL_VIEW) {
      return ViewParams.fullImage(300 + image, 200 + image);
    }
    int[][] orders = {{2, 0, 1}, {1, 2, 0}};
    return new ViewParams(
        11 * image + view,
        3 + view,
        150 + view,
        120 - image,
        view % 2 == 1,
        0.6f + 0.1f * view,
        1.3f - 0.05f * image,
        0.9999999f,
        orders[(image + view) % 2]);
  }

  private static List<TargetRow> rows(String dtype, List<float[]> values) {
    List<TargetRow> rows = new ArrayList<>();
    int r = 0;
    for (int image = 0; image < 2; image++) {
      for (int v : new int[] {0, 1, TargetCacheSchema.FULL_VIEW}) {
        rows.add(
            TargetRow.ofFloats(
                40 + image, "n0144_" + image, v, view(image, v), values.get(r++), N, P, dtype));
      }
    }
    return rows;
  }

  /** The positions of {@code rows} in the layout by view: views 0, 1, ..., then the full view. */
  private static List<Integer> byView(List<TargetRow> rows) {
    List<Integer> order = new ArrayList<>();
    for (int i = 0; i < rows.size(); i++) {
      order.add(i);
    }
    order.sort(
        java.util.Comparator.comparingInt(
            i -> rows.get(i).isFullView() ? Integer.MAX_VALUE : rows.get(i).view()));
    return order;
  }

  private static <T> List<T> reorder(List<T> list, List<Integer> order) {
    return order.stream().map(list::get).toList();
  }

  private List<TargetRow> writeAndRead(Path path, List<TargetRow> rows, boolean tokens)
      throws IOException {
    try (TargetCacheWriter writer =
        TargetCacheWriter.create(conf, path, ShardWriteOptions.DEFAULTS)) {
      for (TargetRow row : rows) {
        writer.write(row);
      }
      WrittenShard written = writer.commit();
      assertThat(written.rows()).isEqualTo(rows.size());
    }
    return TargetCacheReader.readAll(conf, path, tokens);
  }

  @Test
  void fp16RoundTripKeepsViewsExactlyAndTokensWithinHalfPrecision() throws IOException {
    List<float[]> written = values(1);
    List<TargetRow> image = rows(TargetRow.FP16, written);
    List<TargetRow> read = writeAndRead(file("part-00000.parquet"), image, true);
    // The file holds the rows by view: view 0 of both images, view 1, then the full views.
    List<TargetRow> rows = reorder(image, byView(image));
    List<float[]> values = reorder(written, byView(image));

    assertThat(read).isEqualTo(rows);
    for (int r = 0; r < rows.size(); r++) {
      assertThat(read.get(r).params()).isEqualTo(rows.get(r).params());
      float[] back = read.get(r).tokensAsFloats();
      float[] original = values.get(r);
      for (int i = 0; i < back.length; i++) {
        // |x| < 4: fp16 spacing is at most 2^-9, so round-to-nearest is within 2^-10.
        assertThat(back[i]).isCloseTo(original[i], org.assertj.core.data.Offset.offset(0x1p-10f));
        assertThat(back[i]).isEqualTo(HalfFloats.halfToFloat(HalfFloats.floatToHalf(original[i])));
      }
    }
    assertThat(read).extracting(TargetRow::view).containsExactly(0, 0, 1, 1, -1, -1);
    assertThat(read.get(4).isFullView()).isTrue();
    assertThat(read.get(4).params()).isEqualTo(ViewParams.fullImage(300, 200));
    assertThat(read.get(0).tokens()).hasSize(N * P * 2);
  }

  @Test
  void fp32RoundTripIsExact() throws IOException {
    List<float[]> written = values(2);
    List<TargetRow> image = rows(TargetRow.FP32, written);
    List<TargetRow> read = writeAndRead(file("part-00000.parquet"), image, true);
    List<TargetRow> rows = reorder(image, byView(image));
    List<float[]> values = reorder(written, byView(image));

    assertThat(read).isEqualTo(rows);
    for (int r = 0; r < rows.size(); r++) {
      assertThat(read.get(r).tokensAsFloats()).containsExactly(values.get(r));
      assertThat(read.get(r).dtype()).isEqualTo("fp32");
    }
  }

  @Test
  void tokensAreLittleEndianRowMajor() {
    float[] v = {1f, -2f, 0.5f, 65504f, 3f, 0f};
    TargetRow half = TargetRow.ofFloats(0, "k", 0, view(0, 0), v, 2, 3, TargetRow.FP16);
    // 1.0 = 0x3c00, -2.0 = 0xc000 in binary16; little-endian: low byte first.
    assertThat(half.tokens()).startsWith((byte) 0x00, (byte) 0x3c, (byte) 0x00, (byte) 0xc0);
    TargetRow single = TargetRow.ofFloats(0, "k", 0, view(0, 0), v, 2, 3, TargetRow.FP32);
    // 1.0f = 0x3f800000.
    assertThat(single.tokens()).startsWith((byte) 0, (byte) 0, (byte) 0x80, (byte) 0x3f);
    assertThat(half.tokensAsFloats()).containsExactly(v);
  }

  @Test
  void fp16EncodingRoundsHalfwayCasesToEven() {
    // 1 + 2^-11 lies halfway between 1 and 1 + 2^-10: the even neighbour is 1.
    // 1 + 3 * 2^-11 lies halfway between 1 + 2^-10 and 1 + 2^-9: the even neighbour is 1 + 2^-9.
    float[] v = {1f + 0x1p-11f, 1f + 3 * 0x1p-11f};
    TargetRow row = TargetRow.ofFloats(0, "k", 0, view(0, 0), v, 1, 2, TargetRow.FP16);
    assertThat(row.tokensAsFloats()).containsExactly(1f, 1f + 0x1p-9f);
  }

  @Test
  void projectionWithoutTokensReadsEverythingElse() throws IOException {
    List<TargetRow> image = rows(TargetRow.FP16, values(3));
    List<TargetRow> read = writeAndRead(file("part-00000.parquet"), image, false);
    List<TargetRow> rows = reorder(image, byView(image));

    assertThat(read).isEqualTo(rows.stream().map(TargetRow::withoutTokens).toList());
    assertThat(read).allSatisfy(r -> assertThat(r.tokens()).isNull());
    assertThat(read.get(1).params()).isEqualTo(rows.get(1).params());
    assertThatThrownBy(() -> read.get(0).tokensAsFloats())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("n0144_0");
  }

  @Test
  void readerRefusesAVersionOneFileSayingHowToRewriteIt() throws IOException {
    Path path = file("part-00000.parquet");
    try (ParquetRowWriter<TargetRow> writer =
        ParquetRowWriter.create(conf, path, new VersionOneCodec(), ShardWriteOptions.DEFAULTS)) {
      writer.write(rows(TargetRow.FP16, values(4)).get(0));
      writer.commit();
    }

    assertThatThrownBy(() -> TargetCacheReader.open(conf, path))
        .isInstanceOf(ShardFormatException.class)
        .hasMessageContaining(path.toUri().getPath())
        .hasMessageContaining("target cache format version 1")
        .hasMessageContaining("reads version 2")
        .hasMessageContaining("rewrite the cache in the layout by view with bin/dtm targets");
  }

  @Test
  void aViewIsReadFromItsOwnRowGroupsOnly() throws IOException {
    Path path = file("part-00000.parquet");
    List<TargetRow> rows = rows(TargetRow.FP32, values(6));
    writeAndRead(path, rows, true);
    long size = new java.io.File(path.toUri()).length();

    java.util.concurrent.atomic.AtomicLong bytes = new java.util.concurrent.atomic.AtomicLong();
    List<TargetRow> view1 = new ArrayList<>();
    try (TargetCacheReader reader =
        TargetCacheReader.openView(conf, path, 1, true, bytes::addAndGet)) {
      reader.forEachRemaining(view1::add);
    }
    assertThat(view1).containsExactly(rows.get(1), rows.get(4));
    assertThat(TargetCacheReader.rowGroups(conf, path)).hasSize(3);
    java.util.concurrent.atomic.AtomicLong footer = new java.util.concurrent.atomic.AtomicLong();
    try (TargetCacheReader reader =
        TargetCacheReader.openView(conf, path, 7, true, footer::addAndGet)) {
      assertThat(reader.hasNext()).as("a view the file lacks has no rows").isFalse();
    }
    // Beyond the footer, one of three row groups of equal size.
    long viewBytes = bytes.get() - footer.get();
    assertThat(viewBytes).isPositive().isLessThan((size - footer.get()) / 2);

    List<TargetRow> full = new ArrayList<>();
    try (TargetCacheReader reader =
        TargetCacheReader.openView(
            conf, path, TargetCacheSchema.FULL_VIEW, false, null, List.of(0, 1, -1))) {
      reader.forEachRemaining(full::add);
    }
    assertThat(full).extracting(TargetRow::imageId).containsExactly(40L, 41L);
    assertThatThrownBy(
            () -> TargetCacheReader.openView(conf, path, 0, false, null, List.of(0, 1, 2, -1)))
        .isInstanceOf(ShardFormatException.class)
        .hasMessageContaining("holds views [0, 1, -1]; its cache holds views [0, 1, 2, -1]");
  }

  @Test
  void readerRejectsAnImageShard() throws IOException {
    Path path = file("shard.parquet");
    try (org.dtmspark.data.shard.ShardWriter writer =
        org.dtmspark.data.shard.ShardWriter.create(conf, path, ShardWriteOptions.DEFAULTS)) {
      writer.commit();
    }
    assertThatThrownBy(() -> TargetCacheReader.open(conf, path))
        .isInstanceOf(ShardFormatException.class)
        .hasMessageContaining("no " + TargetCacheSchema.VERSION_KEY);
  }

  @Test
  void abandonedWriterLeavesNoFile() throws IOException {
    Path path = file("part-00000.parquet");
    try (TargetCacheWriter writer =
        TargetCacheWriter.create(conf, path, ShardWriteOptions.DEFAULTS)) {
      for (TargetRow row : rows(TargetRow.FP16, values(5))) {
        writer.write(row);
      }
      assertThat(writer.rows()).isEqualTo(6);
    }
    try (Stream<java.nio.file.Path> left = Files.list(dir)) {
      assertThat(left).isEmpty();
    }
  }

  @Test
  void writerRefusesAnExistingFile() throws IOException {
    Path path = file("part-00000.parquet");
    writeAndRead(path, rows(TargetRow.FP32, values(6)), false);
    assertThatThrownBy(() -> TargetCacheWriter.create(conf, path, ShardWriteOptions.DEFAULTS))
        .isInstanceOf(FileAlreadyExistsException.class);
  }

  @Test
  void bytesPerViewOfViTBaseTargetsInHalfPrecision() {
    assertThat(TargetRow.bytesPerView(196, 512, TargetRow.FP16)).isEqualTo(200_704L);
    assertThat(TargetRow.bytesPerView(196, 512, TargetRow.FP32)).isEqualTo(401_408L);
    float[] zeros = new float[196 * 512];
    assertThat(TargetRow.ofFloats(0, "k", 0, view(0, 0), zeros, 196, 512, "fp16").tokens())
        .hasSize(200_704);
  }

  @Test
  void rowsValidateShapeDtypeAndView() {
    ViewParams p = view(0, 0);
    assertThatThrownBy(() -> new TargetRow(0, "k", 0, p, new byte[10], 2, 3, "fp16"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("Tokens of image k view 0 must be 12 bytes ([2, 3] fp16), cannot be: 10");
    assertThatThrownBy(() -> new TargetRow(0, "k", 0, p, new byte[12], 2, 3, "bf16"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("Token dtype must be fp16 or fp32, cannot be: bf16");
    assertThatThrownBy(() -> new TargetRow(0, "k", -2, p, new byte[12], 2, 3, "fp16"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("must be at least -1 (the full-image view), cannot be: -2");
    assertThatThrownBy(() -> TargetRow.ofFloats(0, "k", 0, p, new float[5], 2, 3, "fp32"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("numTokens * dim = 6 floats, cannot be: 5");
    assertThatThrownBy(() -> TargetRowCodec.parseOrder("0,1"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("cannot be: 0,1");
  }

  /** The cache codec stamping format version 2, to test the reader's check. */
  private static final class VersionOneCodec implements RowCodec<TargetRow> {
    private final TargetRowCodec base = TargetRowCodec.INSTANCE;

    @Override
    public String content() {
      return base.content();
    }

    @Override
    public String versionKey() {
      return base.versionKey();
    }

    @Override
    public String contentKey() {
      return base.contentKey();
    }

    @Override
    public int formatVersion() {
      return 1;
    }

    @Override
    public MessageType schema() {
      return base.schema();
    }

    @Override
    public List<String> noDictionaryColumns() {
      return base.noDictionaryColumns();
    }

    @Override
    public void validate(TargetRow row) {
      base.validate(row);
    }

    @Override
    public void write(TargetRow row, RecordConsumer out) {
      base.write(row, out);
    }

    @Override
    public TargetRow read(Object[] fields) {
      return base.read(fields);
    }
  }
}
