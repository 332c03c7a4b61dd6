package org.dtmspark.jobs.shard;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.nio.file.Files;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.LocatedFileStatus;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.RemoteIterator;
import org.apache.spark.sql.SparkSession;
import org.dtmspark.data.image.InspectOptions;
import org.dtmspark.data.plan.ScanOptions;
import org.dtmspark.data.plan.ShardSize;
import org.dtmspark.data.shard.ImageRow;
import org.dtmspark.data.shard.Manifest;
import org.dtmspark.data.shard.RejectReader;
import org.dtmspark.data.shard.RejectRow;
import org.dtmspark.data.shard.RejectSchema;
import org.dtmspark.data.shard.ShardReader;
import org.dtmspark.data.shard.ShardWriteOptions;
import org.dtmspark.jobs.InProcessS3Server;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The sharding job reading from and writing to {@code s3a://} through the real hadoop-aws client
 * (Hadoop 3.3.4, AWS SDK v1), against S3Proxy started in this JVM on 127.0.0.1.
 */
class ShardJobS3aTest {
  private static final java.nio.file.Path FIXTURES =
      java.nio.file.Path.of("../data-prep/src/test/resources/org/dtmspark/data/image");
  private static final String ACCESS_KEY = "dtm-test-access-key";
  private static final String SECRET_KEY = "dtm-test-secret-key";
  private static final String BUCKET = "dtm-shards";
  private static final String INPUT = "s3a://" + BUCKET + "/in";

  private static InProcessS3Server server;
  private static SparkSession spark;
  private static Configuration conf;

  @BeforeAll
  static void startServerAndSpark() throws Exception {
    server = InProcessS3Server.start(ACCESS_KEY, SECRET_KEY);
    server.createBucket(BUCKET);
    spark =
        SparkSession.builder()
            .master("local[2]")
            .appName("ShardJobS3aTest")
            .config("spark.ui.enabled", "false")
            .config("spark.driver.host", "127.0.0.1")
            .config("spark.driver.bindAddress", "127.0.0.1")
            .config("spark.sql.shuffle.partitions", "2")
            .getOrCreate();
    // The job reads the session's Hadoop configuration and ships it to its tasks.
    conf = spark.sparkContext().hadoopConfiguration();
    server.s3aSettings().forEach(conf::set);
    uploadTree();
  }

  @AfterAll
  static void stopEverything() throws Exception {
    try {
      if (conf != null) {
        // Closes the cached S3A instance (its thread pools) and removes it from the cache.
        FileSystem.get(URI.create("s3a://" + BUCKET + "/"), conf).close();
      }
      if (spark != null) {
        spark.stop();
      }
    } finally {
      if (server != null) {
        server.close();
      }
    }
  }

  private static byte[] fixture(String name) throws IOException {
    return Files.readAllBytes(FIXTURES.resolve(name));
  }

  /** A small ImageFolder tree, uploaded through S3A; comments give each file's outcome. */
  private static void uploadTree() throws IOException {
    byte[] rgb = fixture("rgb.jpg");
    Map<String, byte[]> files = new TreeMap<>();
    files.put("train/n01/n01_1.JPEG", rgb); // row, bytes unchanged
    files.put("train/n01/n01_2.JPEG", fixture("grayscale.jpg")); // row
    files.put("train/n01/n01_3.JPEG", Arrays.copyOf(rgb, rgb.length / 2)); // reject: truncated
    files.put("train/n01/.DS_Store", new byte[] {0, 0, 0, 1}); // skipped
    files.put("train/n02/n02_1.JPEG", fixture("cmyk.jpg")); // row, re-encoded
    files.put("train/n02/n02_2.png", fixture("rgba.png")); // row
    files.put("val/n01/val_1.JPEG", rgb); // row
    files.put("val/n02/val_2.JPEG", fixture("grayscale.jpg")); // row
    FileSystem fs = new Path(INPUT).getFileSystem(conf);
    for (Map.Entry<String, byte[]> f : files.entrySet()) {
      try (OutputStream out = fs.create(new Path(INPUT + "/" + f.getKey()), false)) {
        out.write(f.getValue());
      }
    }
  }

  /** Small shards (several for train), written under their final names as on any S3A output. */
  private static ShardJob.Options options(String output) {
    return new ShardJob.Options(
        INPUT,
        output,
        null,
        ScanOptions.defaults(),
        ShardSize.targetBytes(2048),
        7,
        ShardWriteOptions.DEFAULTS.withCommitMode(ShardWriteOptions.CommitMode.DIRECT),
        InspectOptions.DEFAULTS,
        2,
        false);
  }

  @Test
  void shardsAnS3aTreeIntoS3aWithEveryFileAccountedFor() throws Exception {
    String output = "s3a://" + BUCKET + "/out";
    FileSystem fs = new Path(output).getFileSystem(conf);
    long renamesBefore = renames(fs);
    ShardJob.Result r = ShardJob.run(options(output), spark);
    // Shards and rejects were written under their final names: the one rename is the manifest's.
    assertThat(renames(fs) - renamesBefore).isEqualTo(1);

    assertThat(r.filesFound()).isEqualTo(8);
    assertThat(r.rows()).isEqualTo(6);
    assertThat(r.rejects()).isEqualTo(1);
    assertThat(r.skipped()).isEqualTo(1);
    assertThat(r.rowsPerSplit()).containsExactly(Map.entry("train", 4L), Map.entry("val", 2L));
    assertThat(r.manifest()).isEqualTo(output + "/" + Manifest.FILE_NAME);

    Path out = new Path(output);
    Manifest manifest = Manifest.read(conf, out);
    assertThat(manifest.accountsForEveryFile()).isTrue();
    assertThat(manifest.filesFound()).isEqualTo(8);
    assertThat(manifest.synsets()).containsExactly("n01", "n02");
    assertThat(manifest.skipped())
        .singleElement()
        .satisfies(s -> assertThat(s.location()).isEqualTo(INPUT + "/train/n01/.DS_Store"));

    // The output holds exactly the manifest, the shards it lists and the rejects: nothing staged.
    Set<String> expected = new TreeSet<>();
    manifest.shards().forEach(s -> expected.add(s.path()));
    expected.add(Manifest.FILE_NAME);
    expected.add(RejectSchema.DIRECTORY + "/part-00000.parquet");
    assertThat(objectsUnder(fs, out)).isEqualTo(expected);
    assertThat(objectsUnder(fs, new Path(out, "train")))
        .hasSizeGreaterThanOrEqualTo(2)
        .allMatch(name -> name.matches("part-\\d{5}\\.parquet"));

    // Every shard object has the size and checksum the manifest gives.
    for (Manifest.ShardEntry shard : manifest.shards()) {
      byte[] bytes = readObject(fs, new Path(out, shard.path()));
      assertThat(bytes).hasSize((int) shard.bytes());
      assertThat(sha256(bytes)).isEqualTo(shard.sha256());
    }

    // Rows read back over S3A: image bytes stored unchanged unless re-encoding was due.
    Map<String, ImageRow> byKey = new TreeMap<>();
    for (Manifest.ShardEntry shard : manifest.shards()) {
      try (ShardReader reader = ShardReader.open(conf, new Path(out, shard.path()))) {
        reader.forEachRemaining(row -> byKey.put(row.key(), row));
      }
    }
    assertThat(byKey.keySet())
        .containsExactly("n01_1", "n01_2", "n02_1", "n02_2", "val_1", "val_2");
    ImageRow plain = byKey.get("n01_1");
    assertThat(plain.image()).isEqualTo(fixture("rgb.jpg"));
    assertThat(plain.reencoded()).isNull();
    assertThat(plain.source()).isEqualTo(INPUT + "/train/n01/n01_1.JPEG");
    assertThat(byKey.get("n02_1").reencoded()).contains("cmyk");
    assertThat(byKey.get("n02_2").format()).isEqualTo("png");
    assertThat(byKey.get("val_2").split()).isEqualTo("val");
    assertThat(byKey.get("val_2").label()).isEqualTo(1);

    Path rejectsFile = RejectSchema.path(out);
    assertThat(fs.exists(rejectsFile)).isTrue();
    List<RejectRow> rejects = RejectReader.readAll(conf, rejectsFile);
    assertThat(rejects)
        .singleElement()
        .satisfies(
            reject -> {
              assertThat(reject.location()).isEqualTo(INPUT + "/train/n01/n01_3.JPEG");
              assertThat(reject.reason()).startsWith("truncated JPEG");
            });
  }

  @Test
  void aCompleteS3aOutputIsKeptWithoutOverwrite() throws Exception {
    String output = "s3a://" + BUCKET + "/kept";
    ShardJob.run(options(output), spark);
    Path manifest = new Path(output, Manifest.FILE_NAME);
    FileSystem fs = manifest.getFileSystem(conf);
    byte[] before = readObject(fs, manifest);

    assertThatThrownBy(() -> ShardJob.run(options(output), spark))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("already holds a complete shard set");
    assertThat(readObject(fs, manifest)).isEqualTo(before);
  }

  /**
   * Renames done so far by this JVM's S3A instance for the bucket, which Spark's local tasks share
   * with the test (the filesystem cache is keyed by scheme, bucket and user).
   */
  private static long renames(FileSystem fs) {
    Long n = fs.getStorageStatistics().getLong("op_rename");
    assertThat(n).as("S3A rename statistic").isNotNull();
    return n;
  }

  /** Paths of the files under {@code root}, relative to it. */
  private static Set<String> objectsUnder(FileSystem fs, Path root) throws IOException {
    String prefix = fs.makeQualified(root).toString() + "/";
    Set<String> names = new TreeSet<>();
    RemoteIterator<LocatedFileStatus> files = fs.listFiles(root, true);
    while (files.hasNext()) {
      String path = files.next().getPath().toString();
      assertThat(path).startsWith(prefix);
      names.add(path.substring(prefix.length()));
    }
    return names;
  }

  private static byte[] readObject(FileSystem fs, Path path) throws IOException {
    try (InputStream in = fs.open(path)) {
      return in.readAllBytes();
    }
  }

  private static String sha256(byte[] bytes) throws Exception {
    return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
  }
}
