package org.dtmspark.jobs.shard;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.SparkSession;
import org.dtmspark.data.image.InspectOptions;
import org.dtmspark.data.plan.InputLayout;
import org.dtmspark.data.plan.ScanOptions;
import org.dtmspark.data.plan.ShardSize;
import org.dtmspark.data.shard.ImageRow;
import org.dtmspark.data.shard.Manifest;
import org.dtmspark.data.shard.RejectReader;
import org.dtmspark.data.shard.RejectRow;
import org.dtmspark.data.shard.RejectSchema;
import org.dtmspark.data.shard.ShardReader;
import org.dtmspark.data.shard.ShardWriteOptions;
import org.dtmspark.jobs.HadoopConf;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ShardJobTest {
  private static final Path FIXTURES =
      Path.of("../data-prep/src/test/resources/org/dtmspark/data/image");
  private static SparkSession spark;

  @TempDir Path dir;

  @BeforeAll
  static void startSpark() {
    spark =
        SparkSession.builder()
            .master("local[2]")
            .appName("ShardJobTest")
            .config("spark.ui.enabled", "false")
            .config("spark.driver.host", "127.0.0.1")
            .config("spark.sql.shuffle.partitions", "2")
            .getOrCreate();
  }

  @AfterAll
  static void stopSpark() {
    spark.stop();
  }

  private static byte[] fixture(String name) throws IOException {
    return Files.readAllBytes(FIXTURES.resolve(name));
  }

  /** Every odd case of issue 3, with the outcome each must have. */
  private Path oddTree() throws IOException {
    Path root = dir.resolve("in");
    byte[] rgb = fixture("rgb.jpg");
    put(root.resolve("train/n01/n01_1.JPEG"), rgb); // row, bytes unchanged
    put(root.resolve("train/n01/n01_2.JPEG"), fixture("grayscale.jpg")); // row, kept grey
    put(root.resolve("train/n01/n01_3.JPEG"), fixture("cmyk.jpg")); // row, re-encoded
    put(root.resolve("train/n01/n01_4.JPEG"), fixture("rgb.png")); // row, PNG named .JPEG
    put(
        root.resolve("train/n01/n01_5.JPEG"),
        java.util.Arrays.copyOf(rgb, rgb.length / 2)); // truncated
    put(root.resolve("train/n01/n01_6.JPEG"), new byte[0]); // empty
    put(root.resolve("train/n01/notes.txt"), "hello".getBytes()); // skipped
    put(root.resolve("train/n01/.DS_Store"), new byte[] {0, 0, 0, 1}); // skipped
    put(root.resolve("train/n02/n02_1.JPEG"), fixture("ycck.jpg")); // row, re-encoded
    put(root.resolve("train/n02/n02_2.JPEG"), "not an image at all".getBytes()); // reject
    put(root.resolve("train/n02/n02_3.png"), fixture("rgba.png")); // row, kept PNG
    put(root.resolve("val/n01/val_1.JPEG"), rgb); // row
    put(root.resolve("val/n99/val_2.JPEG"), rgb); // reject: unknown wnid
    return root;
  }

  private static void put(Path file, byte[] bytes) throws IOException {
    Files.createDirectories(file.getParent());
    Files.write(file, bytes);
  }

  /** Shards of about {@code shardBytes} each: several for train, one for the single val image. */
  private ShardJob.Options options(String input, Path out, long shardBytes, boolean overwrite) {
    return new ShardJob.Options(
        input,
        out.toUri().toString(),
        null,
        ScanOptions.defaults(),
        ShardSize.targetBytes(shardBytes),
        7,
        ShardWriteOptions.DEFAULTS,
        InspectOptions.DEFAULTS,
        2,
        overwrite);
  }

  private static List<ImageRow> rows(Path out) throws IOException {
    List<ImageRow> rows = new ArrayList<>();
    try (Stream<Path> files = Files.walk(out)) {
      for (Path f :
          files
              .filter(p -> p.getFileName().toString().startsWith("part-"))
              .filter(p -> !p.toString().contains(RejectSchema.DIRECTORY))
              .sorted()
              .toList()) {
        try (ShardReader r =
            ShardReader.open(new Configuration(), new org.apache.hadoop.fs.Path(f.toUri()))) {
          r.forEachRemaining(rows::add);
        }
      }
    }
    return rows;
  }

  @Test
  void everyInputBecomesARowOrARejectOrIsSkipped() throws Exception {
    Path in = oddTree();
    Path out = dir.resolve("out");
    ShardJob.Result r = ShardJob.run(options(in.toUri().toString(), out, 2048, false), spark);

    assertThat(r.filesFound()).isEqualTo(13);
    assertThat(r.rows()).isEqualTo(7);
    assertThat(r.rejects()).isEqualTo(4);
    assertThat(r.skipped()).isEqualTo(2);
    assertThat(r.rowsPerSplit()).containsExactly(Map.entry("train", 6L), Map.entry("val", 1L));

    Manifest manifest =
        Manifest.read(new Configuration(), new org.apache.hadoop.fs.Path(out.toUri()));
    assertThat(manifest.accountsForEveryFile()).isTrue();
    assertThat(manifest.synsets()).containsExactly("n01", "n02");
    assertThat(manifest.shards().size()).isGreaterThanOrEqualTo(3);
    assertThat(manifest.skipped())
        .extracting(Manifest.Skipped::location)
        .allMatch(l -> l.endsWith("notes.txt") || l.endsWith(".DS_Store"));

    Map<String, ImageRow> byKey = new TreeMap<>();
    for (ImageRow row : rows(out)) {
      byKey.put(row.key(), row);
    }
    assertThat(byKey.keySet())
        .containsExactly("n01_1", "n01_2", "n01_3", "n01_4", "n02_1", "n02_3", "val_1");
    assertThat(byKey.get("n01_1").image()).isEqualTo(fixture("rgb.jpg"));
    assertThat(byKey.get("n01_1").reencoded()).isNull();
    assertThat(byKey.get("n01_1").sha256()).isEqualTo(sha256(fixture("rgb.jpg")));
    assertThat(byKey.get("n01_2").image()).isEqualTo(fixture("grayscale.jpg"));
    assertThat(byKey.get("n01_3").reencoded()).contains("cmyk");
    assertThat(byKey.get("n01_4").reencoded()).contains("format-mismatch");
    assertThat(byKey.get("n01_4").format()).isEqualTo("jpeg");
    assertThat(byKey.get("n02_1").reencoded()).contains("ycck");
    assertThat(byKey.get("n02_3").format()).isEqualTo("png");
    assertThat(byKey.get("n02_3").label()).isEqualTo(1);
    assertThat(byKey.get("val_1").split()).isEqualTo("val");
    Set<Long> ids = new TreeSet<>();
    byKey.values().forEach(row -> ids.add(row.imageId()));
    assertThat(ids).hasSize(7);

    List<RejectRow> rejects =
        RejectReader.readAll(
            new Configuration(), RejectSchema.path(new org.apache.hadoop.fs.Path(out.toUri())));
    assertThat(rejects)
        .extracting(RejectRow::location)
        .map(l -> l.replaceAll(".*/", ""))
        .containsExactlyInAnyOrder("n01_5.JPEG", "n01_6.JPEG", "n02_2.JPEG", "val_2.JPEG");
    assertThat(manifest.rejects().total()).isEqualTo(4);
  }

  @Test
  void imageIdsAndShardContentsAreDeterministic() throws Exception {
    Path in = oddTree();
    ShardJob.run(options(in.toUri().toString(), dir.resolve("a"), 2048, false), spark);
    ShardJob.run(options(in.toUri().toString(), dir.resolve("b"), 2048, false), spark);
    List<String> a =
        rows(dir.resolve("a")).stream().map(x -> x.imageId() + x.key() + x.sha256()).toList();
    List<String> b =
        rows(dir.resolve("b")).stream().map(x -> x.imageId() + x.key() + x.sha256()).toList();
    assertThat(a).isEqualTo(b).hasSize(7);
  }

  @Test
  void existingOutputIsAnErrorUnlessOverwriteCompleteOrNot() throws Exception {
    Path in = oddTree();
    Path out = dir.resolve("out");
    ShardJob.run(options(in.toUri().toString(), out, 1L << 30, false), spark);
    assertThatThrownBy(
            () -> ShardJob.run(options(in.toUri().toString(), out, 1L << 30, false), spark))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("already holds a complete shard set")
        .hasMessageContaining("--overwrite");
    assertThat(ShardJob.run(options(in.toUri().toString(), out, 1L << 30, true), spark).rows())
        .isEqualTo(7);

    // A run killed half way leaves shards but no manifest: that output is named as incomplete,
    // and --overwrite replaces it.
    Files.delete(out.resolve(Manifest.FILE_NAME));
    Files.writeString(out.resolve("train/part-00009.parquet"), "half-written");
    assertThatThrownBy(
            () -> ShardJob.run(options(in.toUri().toString(), out, 1L << 30, false), spark))
        .hasMessageContaining("holds an incomplete shard set")
        .hasMessageContaining("--overwrite");
    ShardJob.Result again =
        ShardJob.run(options(in.toUri().toString(), out, 1L << 30, true), spark);
    assertThat(again.rows()).isEqualTo(7);
    assertThat(Files.exists(out.resolve("train/part-00009.parquet"))).isFalse();
  }

  @Test
  void aDirectoryWithOtherFilesIsNeverDeletedEvenWithOverwrite() throws Exception {
    Path in = oddTree();
    Path out = dir.resolve("precious");
    Files.createDirectories(out);
    Files.writeString(out.resolve("thesis.tex"), "do not delete");
    assertThatThrownBy(
            () -> ShardJob.run(options(in.toUri().toString(), out, 1L << 30, true), spark))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("thesis.tex")
        .hasMessageContaining("which this job does not write");
    assertThat(Files.readString(out.resolve("thesis.tex"))).isEqualTo("do not delete");
  }

  @Test
  void archivesGiveTheSameRowsAsTheUnpackedTree() throws Exception {
    Path tree = dir.resolve("tree");
    Path archives = dir.resolve("archives");
    Files.createDirectories(archives);
    byte[] rgb = fixture("rgb.jpg");
    byte[] gray = fixture("grayscale.jpg");
    Map<String, Map<String, byte[]>> train = new TreeMap<>();
    train.put("n01", Map.of("n01_1.JPEG", rgb, "n01_2.JPEG", gray));
    train.put("n02", Map.of("n02_1.JPEG", fixture("cmyk.jpg")));
    for (var c : train.entrySet()) {
      for (var f : c.getValue().entrySet()) {
        put(tree.resolve("train").resolve(c.getKey()).resolve(f.getKey()), f.getValue());
      }
    }
    put(tree.resolve("val/n02/ILSVRC2012_val_00000001.JPEG"), rgb);
    // ILSVRC layout: a train tar of one tar per class, a flat val tar and a label file.
    try (OutputStream o = Files.newOutputStream(archives.resolve(InputLayout.TRAIN_ARCHIVE));
        TarArchiveOutputStream outer = new TarArchiveOutputStream(o)) {
      for (var c : train.entrySet()) {
        java.io.ByteArrayOutputStream inner = new java.io.ByteArrayOutputStream();
        try (TarArchiveOutputStream t = new TarArchiveOutputStream(inner)) {
          for (var f : new TreeMap<>(c.getValue()).entrySet()) {
            addEntry(t, f.getKey(), f.getValue());
          }
        }
        addEntry(outer, c.getKey() + ".tar", inner.toByteArray());
      }
    }
    try (OutputStream o = Files.newOutputStream(archives.resolve(InputLayout.VAL_ARCHIVE));
        TarArchiveOutputStream t = new TarArchiveOutputStream(o)) {
      addEntry(t, "ILSVRC2012_val_00000001.JPEG", rgb);
    }
    Path labels = archives.resolve("val_labels.txt");
    Files.writeString(labels, "ILSVRC2012_val_00000001.JPEG n02\n");

    ShardJob.run(
        options(tree.toUri().toString(), dir.resolve("from-tree"), 1L << 30, false), spark);
    ShardJob.Options fromTar =
        new ShardJob.Options(
            archives.toUri().toString(),
            dir.resolve("from-tar").toUri().toString(),
            InputLayout.ILSVRC_ARCHIVES,
            ScanOptions.defaults().withValLabels(new org.apache.hadoop.fs.Path(labels.toUri())),
            ShardSize.numShards(1),
            7,
            ShardWriteOptions.DEFAULTS,
            InspectOptions.DEFAULTS,
            2,
            false);
    ShardJob.Result r = ShardJob.run(fromTar, spark);
    assertThat(r.rows()).isEqualTo(4);
    assertThat(summary(dir.resolve("from-tar"))).isEqualTo(summary(dir.resolve("from-tree")));
  }

  @Test
  void kaggleValLabelsComeFromTheFirstWnidOfTheSolutionCsv() throws Exception {
    Path root = dir.resolve("kaggle");
    String data = "ILSVRC/Data/CLS-LOC/";
    byte[] rgb = fixture("rgb.jpg");
    Files.createDirectories(root);
    Files.writeString(root.resolve("LOC_synset_mapping.txt"), "n01 tench\nn02 goldfish\n");
    Files.writeString(
        root.resolve("LOC_val_solution.csv"),
        "ImageId,PredictionString\n"
            + "ILSVRC2012_val_00000001,n02 1 2 3 4 n01 5 6 7 8\n"
            + "ILSVRC2012_val_00000002,n99 1 2 3 4\n");
    put(root.resolve(data + "train/n01/n01_1.JPEG"), rgb);
    put(root.resolve(data + "train/n02/n02_1.JPEG"), fixture("grayscale.jpg"));
    put(root.resolve(data + "val/ILSVRC2012_val_00000001.JPEG"), rgb);
    put(root.resolve(data + "val/ILSVRC2012_val_00000002.JPEG"), rgb);

    ShardJob.Result r =
        ShardJob.run(options(root.toUri().toString(), dir.resolve("out"), 1L << 30, false), spark);

    assertThat(r.rows()).isEqualTo(3);
    assertThat(r.rejects()).isEqualTo(1); // val image of the unknown wnid n99
    ImageRow val =
        rows(dir.resolve("out")).stream()
            .filter(x -> x.split().equals("val"))
            .findFirst()
            .orElseThrow();
    assertThat(val.wnid()).isEqualTo("n02");
    assertThat(val.label()).isEqualTo(1);
  }

  @Test
  void anInputThatCannotBeReadFailsTheTaskNamingItInsteadOfBecomingAReject() {
    String missing = dir.resolve("gone/n01/n01_1.JPEG").toUri().toString();
    var image =
        new org.dtmspark.data.plan.PlannedImage(
            0,
            new org.dtmspark.data.plan.SourceImage("train", "n01", "n01_1", missing, 10),
            0,
            0,
            0);
    var unit =
        new ShardJob.InspectUnit(new HadoopConf(new Configuration()), InspectOptions.DEFAULTS);
    assertThatThrownBy(() -> unit.call(List.of(image)))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("Cannot read input " + missing);
  }

  private static Set<String> summary(Path out) throws IOException {
    Set<String> s = new TreeSet<>();
    for (ImageRow r : rows(out)) {
      s.add(
          r.imageId()
              + " "
              + r.split()
              + " "
              + r.wnid()
              + " "
              + r.label()
              + " "
              + r.key()
              + " "
              + r.sha256());
    }
    return s;
  }

  private static void addEntry(TarArchiveOutputStream t, String name, byte[] bytes)
      throws IOException {
    TarArchiveEntry e = new TarArchiveEntry(name);
    e.setSize(bytes.length);
    t.putArchiveEntry(e);
    t.write(bytes);
    t.closeArchiveEntry();
  }

  private static String sha256(byte[] bytes) throws Exception {
    return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
  }
}
