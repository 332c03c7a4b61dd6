package org.dtmspark.data.shard;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.dtmspark.core.data.ImageSource;
import org.dtmspark.core.data.RgbImage;
import org.dtmspark.data.shard.Manifest.RejectSummary;
import org.dtmspark.data.shard.Manifest.ShardEntry;
import org.dtmspark.data.shard.Manifest.SplitSummary;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ShardImageDatasetTest {
  /** Labels of the train images, by shard; image i has pattern seed 10 + i. */
  private static final int[][] LABELS = {{2, 0, 1, 1}, {0, 2, 2}};

  @TempDir java.nio.file.Path dir;

  private final Configuration conf = ShardFixtures.conf();
  private Path root;
  private final List<BufferedImage> images = new ArrayList<>();
  private final List<Integer> labels = new ArrayList<>();

  /** Writes 7 PNG images of 5 x 3 pixels in two train shards, and the manifest. */
  @BeforeEach
  void writeDataset() throws IOException {
    root = ShardFixtures.hadoopPath(dir);
    List<ShardEntry> shards = new ArrayList<>();
    Map<String, Long> classes = new TreeMap<>();
    int id = 0;
    for (int s = 0; s < LABELS.length; s++) {
      List<ImageRow> rows = new ArrayList<>();
      for (int label : LABELS[s]) {
        BufferedImage image = ShardFixtures.pattern(5, 3, 10 + id);
        images.add(image);
        labels.add(label);
        rows.add(ShardFixtures.pngRow(id++, "train", label, image));
        classes.merge(ShardFixtures.SYNSETS.get(label), 1L, Long::sum);
      }
      String relative = "train/" + ImageShardSchema.shardFileName(s);
      WrittenShard written =
          ShardFixtures.write(conf, new Path(root, relative), ShardWriteOptions.DEFAULTS, rows);
      shards.add(ShardEntry.of(relative, "train", written));
    }
    new Manifest(
            1,
            "test",
            "0",
            "2026-01-01T00:00:00Z",
            Map.of("train", new SplitSummary(id, classes)),
            shards,
            ShardFixtures.SYNSETS,
            Manifest.synsetsSha256(ShardFixtures.SYNSETS),
            RejectSummary.NONE,
            List.of(),
            Map.of(),
            id)
        .write(conf, root);
  }

  @Test
  void imagesAndLabelsComeBackInShardOrder() throws IOException {
    ShardImageDataset dataset = ShardImageDataset.open(conf, root, "train");

    assertThat(dataset.size()).isEqualTo(7);
    assertThat(dataset.numClasses()).isEqualTo(3);
    for (int i = 0; i < 7; i++) {
      assertThat(dataset.label(i)).as("label %d", i).isEqualTo(labels.get(i));
      assertThat(dataset.imageId(i)).isEqualTo(i);
      assertThat(dataset.key(i)).isEqualTo(ShardFixtures.SYNSETS.get(labels.get(i)) + "_" + i);
      RgbImage image = dataset.image(i);
      BufferedImage expected = images.get(i);
      assertThat(image.width()).isEqualTo(5);
      assertThat(image.height()).isEqualTo(3);
      for (int y = 0; y < 3; y++) {
        for (int x = 0; x < 5; x++) {
          int rgb = expected.getRGB(x, y);
          assertThat(image.get(0, y, x)).isEqualTo(((rgb >> 16) & 0xff) / 255f);
          assertThat(image.get(1, y, x)).isEqualTo(((rgb >> 8) & 0xff) / 255f);
          assertThat(image.get(2, y, x)).isEqualTo((rgb & 0xff) / 255f);
        }
      }
    }
  }

  @Test
  void imagesAreReadShardByShardHoldingAtMostTheResidentShards() throws IOException {
    ShardImageDataset dataset = ShardImageDataset.open(conf, root, "train", 1);
    assertThat(dataset.blocks()).containsExactly(LABELS[0].length, LABELS[1].length);
    // Alternate between the shards: each access with one resident shard reads its shard again.
    int[] order = {6, 0, 5, 1, 4, 2, 3, 3, 0};
    for (int i : order) {
      RgbImage image = dataset.image(i);
      int rgb = images.get(i).getRGB(2, 1);
      assertThat(image.get(0, 1, 2)).as("image %d", i).isEqualTo(((rgb >> 16) & 0xff) / 255f);
    }
    assertThatThrownBy(() -> dataset.image(7))
        .isInstanceOf(IndexOutOfBoundsException.class)
        .hasMessage("Image index must be in [0, 7), cannot be: 7");
  }

  @Test
  void aPrefetchedShardIsReadOnceAheadAndHeldUntilReleased() throws IOException {
    ShardImageDataset dataset = ShardImageDataset.open(conf, root, "train", 1);
    Path file1 = new Path(root, "train/" + ImageShardSchema.shardFileName(1));
    long shard1 = file1.getFileSystem(conf).getFileStatus(file1).getLen();
    assertThat(dataset.bytesRead()).isZero();
    dataset.prefetch(1);
    int first1 = LABELS[0].length;
    dataset.image(first1);
    long afterPrefetch = dataset.bytesRead();
    // The whole file at most (footer and column chunks), and most of it.
    assertThat(afterPrefetch).isLessThanOrEqualTo(shard1).isGreaterThan(shard1 / 2);
    // Held while prefetched: shard 0 (one resident shard allowed) does not push it out.
    dataset.image(0);
    dataset.image(first1 + 1);
    long both = dataset.bytesRead();
    dataset.image(first1);
    assertThat(dataset.bytesRead()).isEqualTo(both);
    // Released, it is the least recently used and goes out when shard 0 is read again.
    dataset.release(1);
    dataset.image(1);
    dataset.image(first1);
    assertThat(dataset.bytesRead()).isGreaterThan(both);
    assertThat(dataset.source(first1)).isInstanceOf(ImageSource.Encoded.class);
    assertThat(((ImageSource.Encoded) dataset.source(first1)).bytes()).isNotEmpty();
  }

  @Test
  void aShardReplacedAfterOpeningIsNamedWhenItsImagesAreRead() throws IOException {
    ShardImageDataset dataset = ShardImageDataset.open(conf, root, "train", 1);
    String relative = "train/" + ImageShardSchema.shardFileName(1);
    org.apache.hadoop.fs.FileSystem fs = root.getFileSystem(conf);
    fs.delete(new Path(root, relative), false);
    ShardFixtures.write(
        conf,
        new Path(root, relative),
        ShardWriteOptions.DEFAULTS,
        List.of(ShardFixtures.pngRow(99, "train", 0, ShardFixtures.pattern(5, 3, 1))));
    assertThatThrownBy(() -> dataset.image(LABELS[0].length))
        .hasMessageContaining("changed since it was opened");
  }

  @Test
  void idNamesTheSplitAndHashesTheShardChecksums() throws IOException {
    ShardImageDataset dataset = ShardImageDataset.open(conf, root, "train");

    assertThat(dataset.id()).startsWith("file:" + dir + "/train@sha256:");
    assertThat(dataset.id()).hasSize(("file:" + dir + "/train@sha256:").length() + 64);
    assertThat(ShardImageDataset.open(conf, root, "train").id()).isEqualTo(dataset.id());
  }

  @Test
  void idChangesWithTheShardChecksums() throws IOException {
    String before = ShardImageDataset.open(conf, root, "train").id();
    Manifest m = Manifest.read(conf, root);
    List<ShardEntry> changed = new ArrayList<>(m.shards());
    ShardEntry first = changed.get(0);
    ShardEntry altered =
        new ShardEntry(first.path(), first.split(), first.rows(), first.bytes(), "0".repeat(64));
    changed.set(0, altered);
    Files.delete(dir.resolve("_manifest.json"));
    new Manifest(
            1,
            m.tool(),
            m.toolVersion(),
            m.createdAt(),
            m.splits(),
            changed,
            m.synsets(),
            m.synsetsSha256(),
            m.rejects(),
            m.skipped(),
            m.options(),
            m.filesFound())
        .write(conf, root);

    assertThat(ShardImageDataset.open(conf, root, "train").id()).isNotEqualTo(before);
  }

  @Test
  void unknownSplitIsRejectedListingTheKnownOnes() {
    assertThatThrownBy(() -> ShardImageDataset.open(conf, root, "val"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("Split must be one of [train] in " + Manifest.path(root) + ", cannot be: val");
  }

  @Test
  void shardFileNotInTheManifestIsAnError() throws IOException {
    Files.copy(dir.resolve("train/part-00001.parquet"), dir.resolve("train/part-00002.parquet"));

    assertThatThrownBy(() -> ShardImageDataset.open(conf, root, "train"))
        .isInstanceOf(ShardFormatException.class)
        .hasMessage(
            "Shard files in "
                + new Path(root, "train")
                + " do not match the manifest: missing [], not in the manifest"
                + " [train/part-00002.parquet]");
  }

  @Test
  void missingShardFileIsAnError() throws IOException {
    Files.delete(dir.resolve("train/part-00000.parquet"));

    assertThatThrownBy(() -> ShardImageDataset.open(conf, root, "train"))
        .isInstanceOf(ShardFormatException.class)
        .hasMessageContaining("missing [train/part-00000.parquet], not in the manifest []");
  }

  @Test
  void hiddenAndStagingFilesAreIgnored() throws IOException {
    Files.writeString(dir.resolve("train/.part-00009.parquet.inprogress-x"), "partial");
    Files.writeString(dir.resolve("train/_SUCCESS"), "");

    assertThat(ShardImageDataset.open(conf, root, "train").size()).isEqualTo(7);
  }
}
