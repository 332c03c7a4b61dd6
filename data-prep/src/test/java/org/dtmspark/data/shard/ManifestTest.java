package org.dtmspark.data.shard;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileAlreadyExistsException;
import org.apache.hadoop.fs.Path;
import org.dtmspark.data.shard.Manifest.RejectSummary;
import org.dtmspark.data.shard.Manifest.ShardEntry;
import org.dtmspark.data.shard.Manifest.Skipped;
import org.dtmspark.data.shard.Manifest.SplitSummary;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ManifestTest {
  private static final String SHA_A = "a".repeat(64);
  private static final String SHA_B = "b".repeat(64);

  @TempDir java.nio.file.Path dir;

  private final Configuration conf = ShardFixtures.conf();

  /** Train: 3 images in 2 shards; val: 1 image; 2 rejects, 1 skipped; 7 files found. */
  static Manifest sample(long filesFound) {
    Map<String, Object> options = new LinkedHashMap<>();
    options.put("layout", "imagefolder");
    options.put("shuffle_seed", 7);
    options.put("resize", null);
    options.put("splits", List.of("train", "val"));
    return new Manifest(
        1,
        "dtm-spark shard",
        "0.1.0",
        "2026-02-01T00:00:00Z",
        Map.of(
            "val",
            new SplitSummary(1, Map.of("n01443537", 1L)),
            "train",
            new SplitSummary(3, Map.of("n01440764", 2L, "n01443537", 1L))),
        List.of(
            new ShardEntry("train/part-00000.parquet", "train", 2, 1000, SHA_A),
            new ShardEntry("train/part-00001.parquet", "train", 1, 900, SHA_B),
            new ShardEntry("val/part-00000.parquet", "val", 1, 800, SHA_A)),
        List.of("n01440764", "n01443537"),
        Manifest.synsetsSha256(List.of("n01440764", "n01443537")),
        new RejectSummary(2, Map.of("truncated", 1L, "not an image", 1L)),
        List.of(new Skipped("train/.DS_Store", "hidden file")),
        options,
        filesFound);
  }

  @Test
  void jsonRoundTripGivesAnEqualManifest() throws IOException {
    Manifest manifest = sample(7);

    String json = manifest.toJson();

    assertThat(Manifest.fromJson(json, "test")).isEqualTo(manifest);
    assertThat(json).contains("\"format_version\" : 1").contains("\"files_found\" : 7");
    assertThat(json).endsWith("}\n");
  }

  @Test
  void writtenManifestReadsBackThroughTheFileSystem() throws IOException {
    Path root = ShardFixtures.hadoopPath(dir);
    Manifest manifest = sample(7);

    Path written = manifest.write(conf, root);

    assertThat(written.toString()).isEqualTo("file:" + dir.resolve("_manifest.json"));
    assertThat(Manifest.read(conf, root)).isEqualTo(manifest);
    try (Stream<java.nio.file.Path> files = Files.list(dir)) {
      assertThat(files.map(p -> p.getFileName().toString()))
          .containsExactlyInAnyOrder("_manifest.json", "._manifest.json.crc");
    }
  }

  @Test
  void existingManifestIsNotReplaced() throws IOException {
    Path root = ShardFixtures.hadoopPath(dir);
    sample(7).write(conf, root);

    assertThatThrownBy(() -> sample(8).write(conf, root))
        .isInstanceOf(FileAlreadyExistsException.class)
        .hasMessage("Cannot write " + Manifest.path(root) + ": the file already exists");
    assertThat(Manifest.read(conf, root).filesFound()).isEqualTo(7);
  }

  @Test
  void everyFileMustBeARowARejectOrSkipped() {
    assertThat(sample(7).totalRows()).isEqualTo(4);
    assertThat(sample(7).accountsForEveryFile()).isTrue();
    assertThat(sample(8).accountsForEveryFile()).isFalse();
    assertThat(sample(6).accountsForEveryFile()).isFalse();
  }

  @Test
  void otherFormatVersionIsRejectedNamingFileAndVersion() throws IOException {
    Path root = ShardFixtures.hadoopPath(dir);
    Files.writeString(
        dir.resolve("_manifest.json"),
        sample(7).toJson().replace("\"format_version\" : 1", "\"format_version\" : 2"));

    assertThatThrownBy(() -> Manifest.read(conf, root))
        .isInstanceOf(ShardFormatException.class)
        .hasMessage(
            "Manifest "
                + Manifest.path(root)
                + " has format version 2; this reader reads version 1");
  }

  @Test
  void manifestWithoutVersionIsRejected() {
    assertThatThrownBy(() -> Manifest.fromJson("{\"tool\": \"x\"}", "m.json"))
        .isInstanceOf(ShardFormatException.class)
        .hasMessage(
            "Manifest m.json has no integer format_version; it is not a dtm-spark manifest");
  }

  @Test
  void missingOrUnknownFieldsAreRejectedNamingTheField() {
    String json = sample(7).toJson();

    assertThatThrownBy(() -> Manifest.fromJson(json.replace("\"files_found\" : 7,", ""), "m"))
        .isInstanceOf(ShardFormatException.class)
        .hasMessageStartingWith("Manifest m is invalid: ")
        .hasMessageContaining("files_found");
    assertThatThrownBy(
            () -> Manifest.fromJson(json.replace("\"tool\" :", "\"extra\" : 1, \"tool\" :"), "m"))
        .isInstanceOf(ShardFormatException.class)
        .hasMessageContaining("extra");
  }

  @Test
  void countsThatDisagreeAreRejected() {
    String json = sample(7).toJson();

    assertThatThrownBy(
            () -> Manifest.fromJson(json.replace("\"images\" : 3", "\"images\" : 4"), "m"))
        .isInstanceOf(ShardFormatException.class)
        .hasMessageContaining(
            "Split image count must equal the sum of its class counts (3), cannot be: 4");
    assertThatThrownBy(() -> Manifest.fromJson(json.replace("\"rows\" : 2,", "\"rows\" : 5,"), "m"))
        .isInstanceOf(ShardFormatException.class)
        .hasMessageContaining(
            "Image count of split train must equal the rows of its shards (6), cannot be: 3");
    assertThatThrownBy(() -> Manifest.fromJson(json.replace("\"total\" : 2", "\"total\" : 3"), "m"))
        .isInstanceOf(ShardFormatException.class)
        .hasMessageContaining(
            "Reject total must equal the sum of its counts by reason (2), cannot be: 3");
  }

  @Test
  void synsetHashMustMatchTheList() {
    String json = sample(7).toJson();
    String hash = Manifest.synsetsSha256(List.of("n01440764", "n01443537"));

    assertThatThrownBy(() -> Manifest.fromJson(json.replace(hash, SHA_A), "m"))
        .isInstanceOf(ShardFormatException.class)
        .hasMessageContaining(
            "Synsets SHA-256 must be the hash of the synset list ("
                + hash
                + "), cannot be: "
                + SHA_A);
  }

  @Test
  void classOutsideTheSynsetListIsRejected() {
    assertThatThrownBy(
            () ->
                new Manifest(
                    1,
                    "t",
                    "v",
                    "now",
                    Map.of("val", new SplitSummary(1, Map.of("n99999999", 1L))),
                    List.of(new ShardEntry("val/part-00000.parquet", "val", 1, 10, SHA_A)),
                    List.of("n01440764"),
                    Manifest.synsetsSha256(List.of("n01440764")),
                    RejectSummary.NONE,
                    List.of(),
                    Map.of(),
                    1))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("Class n99999999 of split val must be in the synset list");
  }

  @Test
  void shardsOfASplitKeepManifestOrder() {
    assertThat(sample(7).shards("train"))
        .extracting(ShardEntry::path)
        .containsExactly("train/part-00000.parquet", "train/part-00001.parquet");
  }

  @Test
  void mapsAreWrittenSortedByKey() {
    String json = sample(7).toJson();

    assertThat(json.indexOf("\"train\" : {")).isLessThan(json.indexOf("\"val\" : {"));
    assertThat(json.indexOf("\"not an image\"")).isLessThan(json.indexOf("\"truncated\""));
  }

  @Test
  void shardEntryTakesAWrittenShardsFigures() {
    WrittenShard written = new WrittenShard("file:/out/train/part-00003.parquet", 5, 123, SHA_B);

    assertThat(ShardEntry.of("train/part-00003.parquet", "train", written))
        .isEqualTo(new ShardEntry("train/part-00003.parquet", "train", 5, 123, SHA_B));
  }
}
