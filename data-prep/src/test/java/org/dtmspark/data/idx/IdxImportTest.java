package org.dtmspark.data.idx;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import javax.imageio.ImageIO;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileAlreadyExistsException;
import org.dtmspark.data.shard.ImageRow;
import org.dtmspark.data.shard.Manifest;
import org.dtmspark.data.shard.Manifest.ShardEntry;
import org.dtmspark.data.shard.RejectReader;
import org.dtmspark.data.shard.RejectSchema;
import org.dtmspark.data.shard.ShardImageDataset;
import org.dtmspark.data.shard.ShardReader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class IdxImportTest {
  private static final Path FASHION_MNIST = Path.of("/usr/share/datasets/fashion-mnist");

  @TempDir Path dir;

  private final Configuration conf = new Configuration();

  private static org.apache.hadoop.fs.Path hadoop(Path path) {
    return new org.apache.hadoop.fs.Path(path.toUri());
  }

  /** Writes {@code count} random {@code 5 x 4} images with labels in {@code [0, classes)}. */
  private IdxImport.Split smallSplit(String name, int count, int classes, long seed)
      throws IOException {
    SplittableRandom random = new SplittableRandom(seed);
    byte[] pixels = new byte[count * 5 * 4];
    random.nextBytes(pixels);
    int[] labels = new int[count];
    for (int i = 0; i < count; i++) {
      labels[i] = random.nextInt(classes);
    }
    Path images = dir.resolve(name + "-images-idx3-ubyte.gz");
    Path labelFile = dir.resolve(name + "-labels-idx1-ubyte");
    IdxWriter.writeImages(new IdxImages(count, 5, 4, pixels), images, true);
    IdxWriter.writeLabels(IdxLabels.of(labels), labelFile, false);
    return new IdxImport.Split(name, IdxFile.local(images), IdxFile.local(labelFile));
  }

  private List<IdxImport.Split> smallSplits() throws IOException {
    return List.of(smallSplit("train", 50, 3, 1), smallSplit("test", 20, 3, 2));
  }

  private IdxImport.Builder options(Path out, List<IdxImport.Split> splits) {
    IdxImport.Builder b = IdxImport.Options.builder().setOutput(hadoop(out)).optConf(conf);
    splits.forEach(b::addSplit);
    return b;
  }

  private List<ImageRow> rows(Path out, Manifest manifest, String split) throws IOException {
    List<ImageRow> rows = new ArrayList<>();
    for (ShardEntry shard : manifest.shards(split)) {
      try (ShardReader reader = ShardReader.open(conf, hadoop(out.resolve(shard.path())))) {
        reader.forEachRemaining(rows::add);
      }
    }
    return rows;
  }

  private static byte[] grayPixels(byte[] encoded) throws IOException {
    BufferedImage image = ImageIO.read(new ByteArrayInputStream(encoded));
    assertThat(image.getType()).isEqualTo(BufferedImage.TYPE_BYTE_GRAY);
    byte[] out = new byte[image.getWidth() * image.getHeight()];
    image.getRaster().getDataElements(0, 0, image.getWidth(), image.getHeight(), out);
    return out;
  }

  private static String sha256(byte[] bytes) throws Exception {
    return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
  }

  @Test
  void realFashionMnistTestSetBecomesTenThousandLosslessRows() throws Exception {
    Path images = FASHION_MNIST.resolve("t10k-images-idx3-ubyte.gz");
    Path labels = FASHION_MNIST.resolve("t10k-labels-idx1-ubyte.gz");
    assumeTrue(Files.isRegularFile(images) && Files.isRegularFile(labels), "no Fashion-MNIST");
    IdxDataset idx = IdxReader.readDataset(images, labels);
    Path out = dir.resolve("fmnist");

    IdxImport.Result result =
        IdxImport.run(
            options(
                    out,
                    List.of(
                        new IdxImport.Split("test", IdxFile.local(images), IdxFile.local(labels))))
                .optClassNames(IdxClassNames.parse("fashion-mnist"))
                .optRowsPerShard(3000)
                .build());

    Manifest manifest = Manifest.read(conf, hadoop(out));
    assertThat(manifest.toJson()).isEqualTo(result.manifest().toJson());
    assertThat(manifest.filesFound()).isEqualTo(10_000);
    assertThat(manifest.totalRows()).isEqualTo(10_000);
    assertThat(manifest.accountsForEveryFile()).isTrue();
    assertThat(manifest.tool()).isEqualTo("dtm-spark import-idx");
    assertThat(manifest.synsets())
        .containsExactly(
            "ankle_boot",
            "bag",
            "coat",
            "dress",
            "pullover",
            "sandal",
            "shirt",
            "sneaker",
            "trouser",
            "tshirt_top");
    // 10,000 rows in at most 3,000 per shard: 4 shards of 2,500.
    assertThat(manifest.shards())
        .extracting(ShardEntry::rows)
        .containsExactly(2500L, 2500L, 2500L, 2500L);
    Map<String, Long> expectedCounts = new TreeMap<>();
    for (int label : idx.labels().toIntArray()) {
      expectedCounts.merge(IdxClassNames.FASHION_MNIST.get(label), 1L, Long::sum);
    }
    assertThat(manifest.splits().get("test").classes()).isEqualTo(expectedCounts);
    assertThat(RejectReader.readAll(conf, RejectSchema.path(hadoop(out)))).isEmpty();

    List<ImageRow> rows = rows(out, manifest, "test");
    assertThat(rows).hasSize(10_000);
    boolean[] seen = new boolean[10_000];
    for (ImageRow row : rows) {
      int index = (int) row.imageId();
      assertThat(seen[index]).as("image %d twice", index).isFalse();
      seen[index] = true;
      String wnid = IdxClassNames.FASHION_MNIST.get(idx.labels().label(index));
      assertThat(row.key()).isEqualTo("test_" + index);
      assertThat(row.split()).isEqualTo("test");
      assertThat(row.wnid()).isEqualTo(wnid);
      assertThat(row.label()).isEqualTo(manifest.synsets().indexOf(wnid));
      assertThat(row.format()).isEqualTo("png");
      assertThat(row.width()).isEqualTo(28);
      assertThat(row.height()).isEqualTo(28);
      assertThat(row.source()).isEqualTo("t10k-images-idx3-ubyte.gz#" + index);
      assertThat(row.reencoded()).isNull();
      assertThat(row.sha256()).isEqualTo(sha256(row.image()));
      assertThat(grayPixels(row.image()))
          .as("pixels of %d", index)
          .isEqualTo(idx.images().image(index));
    }
    // Shuffled across shards: the first shard does not hold the first 2,500 images.
    assertThat(rows.subList(0, 2500).stream().mapToLong(ImageRow::imageId).max().getAsLong())
        .isGreaterThan(2500);

    ShardImageDataset dataset = ShardImageDataset.open(conf, hadoop(out), "test");
    assertThat(dataset.size()).isEqualTo(10_000);
    assertThat(dataset.numClasses()).isEqualTo(10);
  }

  @Test
  void idxLabelsMapToTheIndexOfTheirNameInTheSortedList() throws Exception {
    Path out = dir.resolve("out");
    IdxImport.Split split = smallSplit("train", 30, 3, 5);
    IdxLabels labels = IdxReader.readLabels(dir.resolve("train-labels-idx1-ubyte"));

    Manifest manifest =
        IdxImport.run(
                options(out, List.of(split)).optClassNames(List.of("zebra", "ant", "mole")).build())
            .manifest();

    assertThat(manifest.synsets()).containsExactly("ant", "mole", "zebra");
    int[] expected = {2, 0, 1}; // zebra, ant, mole
    for (ImageRow row : rows(out, manifest, "train")) {
      int idxLabel = labels.label((int) row.imageId());
      assertThat(row.label()).isEqualTo(expected[idxLabel]);
      assertThat(row.wnid()).isEqualTo(List.of("zebra", "ant", "mole").get(idxLabel));
    }
  }

  @Test
  void imageIdsAreDenseOverSplitsInTheOrderGiven() throws Exception {
    Path out = dir.resolve("out");
    Manifest manifest =
        IdxImport.run(options(out, smallSplits()).optRowsPerShard(16).build()).manifest();

    assertThat(manifest.synsets()).containsExactly("class_0", "class_1", "class_2");
    assertThat(manifest.splits().get("train").images()).isEqualTo(50);
    assertThat(manifest.splits().get("test").images()).isEqualTo(20);
    // 50 rows in at most 16 per shard: 4 shards (12, 13, 12, 13); 20 rows: 2 shards of 10.
    assertThat(manifest.shards())
        .extracting(ShardEntry::path, ShardEntry::rows)
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple("train/part-00000.parquet", 12L),
            org.assertj.core.groups.Tuple.tuple("train/part-00001.parquet", 13L),
            org.assertj.core.groups.Tuple.tuple("train/part-00002.parquet", 12L),
            org.assertj.core.groups.Tuple.tuple("train/part-00003.parquet", 13L),
            org.assertj.core.groups.Tuple.tuple("test/part-00000.parquet", 10L),
            org.assertj.core.groups.Tuple.tuple("test/part-00001.parquet", 10L));
    assertThat(rows(out, manifest, "train"))
        .extracting(ImageRow::imageId)
        .containsExactlyInAnyOrderElementsOf(range(0, 50));
    List<ImageRow> test = rows(out, manifest, "test");
    assertThat(test)
        .extracting(ImageRow::imageId)
        .containsExactlyInAnyOrderElementsOf(range(50, 70));
    for (ImageRow row : test) {
      assertThat(row.key()).isEqualTo("test_" + (row.imageId() - 50));
      assertThat(row.source()).isEqualTo("test-images-idx3-ubyte.gz#" + (row.imageId() - 50));
    }
  }

  private static List<Long> range(long from, long to) {
    List<Long> ids = new ArrayList<>();
    for (long i = from; i < to; i++) {
      ids.add(i);
    }
    return ids;
  }

  @Test
  void sameInputsGiveTheSameIdsAndBytesAndAnotherSeedAnotherOrder() throws Exception {
    List<IdxImport.Split> splits = smallSplits();
    Manifest first =
        IdxImport.run(options(dir.resolve("a"), splits).optRowsPerShard(16).build()).manifest();
    Manifest second =
        IdxImport.run(options(dir.resolve("b"), splits).optRowsPerShard(16).build()).manifest();
    Manifest reseeded =
        IdxImport.run(options(dir.resolve("c"), splits).optRowsPerShard(16).optSeed(7).build())
            .manifest();

    // Same files, sizes and rows (image bytes included). Not the files' SHA-256: parquet-mr writes
    // each column's encodings from a hash set of enums into the footer, in an order that can differ
    // between JVM runs.
    assertThat(second.shards())
        .extracting(ShardEntry::path, ShardEntry::rows, ShardEntry::bytes)
        .isEqualTo(
            first.shards().stream()
                .map(e -> org.assertj.core.groups.Tuple.tuple(e.path(), e.rows(), e.bytes()))
                .toList());
    for (String split : List.of("train", "test")) {
      assertThat(rows(dir.resolve("b"), second, split))
          .isEqualTo(rows(dir.resolve("a"), first, split));
      List<ImageRow> other = rows(dir.resolve("c"), reseeded, split);
      assertThat(other).isNotEqualTo(rows(dir.resolve("a"), first, split));
      assertThat(other).containsExactlyInAnyOrderElementsOf(rows(dir.resolve("a"), first, split));
    }
  }

  @Test
  void finishedOutputIsAnErrorNamingItsManifestUnlessOverwrite() throws Exception {
    Path out = dir.resolve("out");
    List<IdxImport.Split> splits = smallSplits();
    IdxImport.run(options(out, splits).optRowsPerShard(10).build());
    Path manifest = out.resolve("_manifest.json");
    String before = Files.readString(manifest);

    assertThatThrownBy(() -> IdxImport.run(options(out, splits).build()))
        .isInstanceOf(FileAlreadyExistsException.class)
        .hasMessageContaining(hadoop(manifest).toString())
        .hasMessageContaining("--overwrite");
    assertThat(Files.readString(manifest)).isEqualTo(before);
    assertThat(Files.list(out.resolve("train")).filter(p -> !hidden(p))).hasSize(5);
  }

  @Test
  void overwriteReplacesAFinishedOutput() throws Exception {
    Path out = dir.resolve("out");
    IdxImport.run(options(out, smallSplits()).optRowsPerShard(10).build());

    IdxImport.Split only = smallSplit("train", 12, 2, 9);
    Manifest manifest =
        IdxImport.run(options(out, List.of(only)).optRowsPerShard(100).optOverwrite(true).build())
            .manifest();

    assertThat(manifest.splits().keySet()).containsExactly("train");
    assertThat(Files.exists(out.resolve("test"))).isFalse();
    assertThat(Files.list(out.resolve("train")).filter(p -> !hidden(p)))
        .extracting(p -> p.getFileName().toString())
        .containsExactly("part-00000.parquet");
    assertThat(ShardImageDataset.open(conf, hadoop(out), "train").size()).isEqualTo(12);
  }

  @Test
  void incompleteOutputWithoutManifestNeedsOverwriteAndIsThenRedone() throws Exception {
    Path out = dir.resolve("out");
    Files.createDirectories(out.resolve("train"));
    Files.createDirectories(out.resolve("_rejects"));
    Files.write(out.resolve("train/part-00009.parquet"), new byte[] {1, 2, 3});
    Files.write(out.resolve("train/.part-00000.parquet.inprogress-x"), new byte[] {4});
    Files.write(out.resolve("_rejects/part-00000.parquet"), new byte[] {5});

    assertThatThrownBy(() -> IdxImport.run(options(out, smallSplits()).build()))
        .isInstanceOf(FileAlreadyExistsException.class)
        .hasMessageContaining("holds an incomplete import")
        .hasMessageContaining("--overwrite");
    assertThat(Files.exists(out.resolve("train/part-00009.parquet"))).isTrue();

    Manifest manifest =
        IdxImport.run(options(out, smallSplits()).optOverwrite(true).build()).manifest();

    assertThat(Files.exists(out.resolve("train/part-00009.parquet"))).isFalse();
    assertThat(Files.exists(out.resolve("train/.part-00000.parquet.inprogress-x"))).isFalse();
    assertThat(manifest.accountsForEveryFile()).isTrue();
    assertThat(ShardImageDataset.open(conf, hadoop(out), "train").size()).isEqualTo(50);
    assertThat(RejectReader.readAll(conf, RejectSchema.path(hadoop(out)))).isEmpty();
  }

  @Test
  void filesTheImportDoesNotWriteAreNeverRemoved() throws Exception {
    Path out = dir.resolve("out");
    Files.createDirectories(out);
    Files.writeString(out.resolve("notes.txt"), "mine");

    assertThatThrownBy(() -> IdxImport.run(options(out, smallSplits()).optOverwrite(true).build()))
        .isInstanceOf(FileAlreadyExistsException.class)
        .hasMessageContaining("[notes.txt]");
    assertThat(Files.readString(out.resolve("notes.txt"))).isEqualTo("mine");
  }

  private static boolean hidden(Path p) {
    return p.getFileName().toString().startsWith(".");
  }

  @Test
  void missingLabelFileIsNamedBeforeAnythingIsWritten() throws Exception {
    IdxImport.Split good = smallSplit("train", 5, 2, 1);
    Path missing = dir.resolve("nope-labels-idx1-ubyte");
    IdxImport.Split bad = new IdxImport.Split("test", good.images(), IdxFile.local(missing));
    Path out = dir.resolve("out");

    assertThatThrownBy(() -> IdxImport.run(options(out, List.of(good, bad)).build()))
        .isInstanceOf(NoSuchFileException.class)
        .hasMessageContaining(missing.toString())
        .hasMessageContaining("labels of split test");
    assertThat(Files.exists(out)).isFalse();
  }

  @Test
  void differentImageAndLabelCountsNameBothFiles() throws Exception {
    IdxImport.Split five = smallSplit("a", 5, 2, 1);
    IdxImport.Split six = smallSplit("b", 6, 2, 1);
    IdxImport.Split mixed = new IdxImport.Split("train", five.images(), six.labels());

    assertThatThrownBy(() -> IdxImport.run(options(dir.resolve("out"), List.of(mixed)).build()))
        .isInstanceOf(IdxFormatException.class)
        .hasMessageContaining(five.images().location())
        .hasMessageContaining(six.labels().location())
        .hasMessageContaining("5 images")
        .hasMessageContaining("6 labels");
  }

  @Test
  void labelWithoutAClassNameIsAnError() throws Exception {
    IdxImport.Split split = smallSplit("train", 40, 3, 1);

    assertThatThrownBy(
            () ->
                IdxImport.run(
                    options(dir.resolve("out"), List.of(split))
                        .optClassNames(List.of("a", "b"))
                        .build()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(split.labels().location())
        .hasMessageContaining("must be less than the number of class names (2), cannot be: 2");
  }

  @Test
  void limitKeepsTheFirstImagesAndCountsOnlyThose() throws Exception {
    IdxImport.Split all = smallSplit("train", 30, 3, 1);
    IdxImport.Split first = new IdxImport.Split("train", all.images(), all.labels(), 7);
    Path out = dir.resolve("out");

    Manifest manifest = IdxImport.run(options(out, List.of(first)).build()).manifest();

    assertThat(manifest.filesFound()).isEqualTo(7);
    assertThat(manifest.accountsForEveryFile()).isTrue();
    assertThat(rows(out, manifest, "train"))
        .extracting(ImageRow::key)
        .containsExactlyInAnyOrder(
            "train_0", "train_1", "train_2", "train_3", "train_4", "train_5", "train_6");
  }

  @Test
  void jpegEncodingIsLossyGrayscaleAndSaysSo() throws Exception {
    Path images = dir.resolve("smooth-images-idx3-ubyte");
    Path labels = dir.resolve("smooth-labels-idx1-ubyte");
    byte[] pixels = new byte[2 * 16 * 16];
    for (int i = 0; i < pixels.length; i++) {
      pixels[i] = (byte) ((i % 16) * 8 + (i / 16 % 16) * 4);
    }
    IdxImages idx = new IdxImages(2, 16, 16, pixels);
    IdxWriter.writeImages(idx, images, false);
    IdxWriter.writeLabels(IdxLabels.of(0, 1), labels, false);
    Path out = dir.resolve("out");

    Manifest manifest =
        IdxImport.run(
                options(
                        out,
                        List.of(
                            new IdxImport.Split(
                                "train", IdxFile.local(images), IdxFile.local(labels))))
                    .optEncoding(IdxImport.Encoding.parse("jpeg"))
                    .optJpegQuality(0.95f)
                    .build())
            .manifest();

    assertThat(manifest.options()).containsEntry("format", "jpeg");
    for (ImageRow row : rows(out, manifest, "train")) {
      assertThat(row.format()).isEqualTo("jpeg");
      assertThat(row.image()[0] & 0xff).isEqualTo(0xff);
      assertThat(row.image()[1] & 0xff).isEqualTo(0xd8);
      assertThat(row.reencoded()).isEqualTo("lossy jpeg encoding of idx pixels");
      byte[] decoded = grayPixels(row.image());
      byte[] original = idx.image((int) row.imageId());
      for (int i = 0; i < decoded.length; i++) {
        assertThat(Math.abs((decoded[i] & 0xff) - (original[i] & 0xff))).isLessThanOrEqualTo(12);
      }
    }
  }

  @Test
  void optionsAreValidatedWithTheRule() throws Exception {
    IdxImport.Split split = smallSplit("train", 3, 2, 1);
    assertThatThrownBy(() -> options(dir, List.of(split, split)).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("Split names must be distinct, cannot repeat: train");
    assertThatThrownBy(() -> options(dir, List.of(split)).optRowsPerShard(0).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("Rows per shard must be at least 1, cannot be: 0");
    assertThatThrownBy(() -> options(dir, List.of(split)).optJpegQuality(1.5f).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("JPEG quality must be in (0, 1], cannot be: 1.5");
    assertThatThrownBy(() -> new IdxImport.Split("_rejects", split.images(), split.labels()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("cannot be: '_rejects'");
    assertThatThrownBy(() -> IdxImport.Encoding.parse("gif"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("Image format must be png or jpeg, cannot be: gif");
  }

  @Test
  void classNamesParsePresetAndListsAndSyntheticNamesSortInLabelOrder() {
    assertThat(IdxClassNames.parse("Fashion-MNIST")).isEqualTo(IdxClassNames.FASHION_MNIST);
    assertThat(IdxClassNames.parse("cat, dog")).containsExactly("cat", "dog");
    assertThatThrownBy(() -> IdxClassNames.parse("cat,cat"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("Class names must be distinct, cannot repeat: 'cat' (name 1)");
    assertThatThrownBy(() -> IdxClassNames.parse("cat,,dog"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("Class name 1 must be");
    assertThat(IdxClassNames.synthetic(3)).containsExactly("class_0", "class_1", "class_2");
    List<String> many = IdxClassNames.synthetic(47);
    assertThat(many.get(0)).isEqualTo("class_00");
    assertThat(many.get(46)).isEqualTo("class_46");
    assertThat(many.stream().sorted().toList()).isEqualTo(many);
    Map<String, Integer> index = new HashMap<>();
    for (int i = 0; i < many.size(); i++) {
      index.put(many.get(i), i);
    }
    assertThat(index).hasSize(47);
  }
}
