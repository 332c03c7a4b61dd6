package org.dtmspark.data.shard;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.dtmspark.core.data.RgbImage;
import org.dtmspark.data.shard.Manifest.ShardEntry;
import org.junit.jupiter.api.Test;

/** The committed output of format version 1 (written by {@link GoldenFiles}) stays readable. */
class GoldenFilesTest {
  private final Configuration conf = ShardFixtures.conf();

  private static java.nio.file.Path golden() {
    try {
      return java.nio.file.Path.of(
              GoldenFilesTest.class.getResource("golden-v1/_manifest.json").toURI())
          .getParent();
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }

  @Test
  void goldenManifestReadsWithEveryField() throws IOException {
    Manifest manifest = Manifest.read(conf, ShardFixtures.hadoopPath(golden()));

    assertThat(manifest.formatVersion()).isEqualTo(1);
    assertThat(manifest.tool()).isEqualTo("dtm-spark shard");
    assertThat(manifest.toolVersion()).isEqualTo("0.1.0-SNAPSHOT");
    assertThat(manifest.createdAt()).isEqualTo("2026-01-15T12:00:00Z");
    assertThat(manifest.splits()).containsOnlyKeys("train", "val");
    assertThat(manifest.splits().get("train").images()).isEqualTo(3);
    assertThat(manifest.splits().get("val").classes())
        .isEqualTo(Map.of("n01440764", 1L, "n01443537", 1L));
    assertThat(manifest.shards())
        .extracting(ShardEntry::path)
        .containsExactly(
            "train/part-00000.parquet", "train/part-00001.parquet", "val/part-00000.parquet");
    assertThat(manifest.synsets()).isEqualTo(ShardFixtures.SYNSETS);
    // sha256sum of "n01440764\nn01443537\nn01484850\n", computed outside Java.
    assertThat(manifest.synsetsSha256())
        .isEqualTo("f6f7ed482ce99da744f711b40bddc508bb2819f192f80bab4b633d4a9d5f2308");
    assertThat(manifest.rejects().byReason())
        .isEqualTo(Map.of("truncated", 1L, "unknown wnid", 1L));
    assertThat(manifest.skipped()).isEqualTo(GoldenFiles.SKIPPED);
    assertThat(manifest.options())
        .containsEntry("row_group_bytes", 67108864)
        .containsEntry("resize_shorter_side", null)
        .hasSize(6);
    assertThat(manifest.filesFound()).isEqualTo(8);
    assertThat(manifest.accountsForEveryFile()).isTrue();
  }

  @Test
  void goldenManifestTextIsWhatThisCodeWrites() throws IOException {
    String text = Files.readString(golden().resolve("_manifest.json"), StandardCharsets.UTF_8);

    assertThat(Manifest.fromJson(text, "golden").toJson()).isEqualTo(text);
  }

  @Test
  void goldenShardsMatchTheirManifestChecksums() throws IOException {
    Manifest manifest = Manifest.read(conf, ShardFixtures.hadoopPath(golden()));

    for (ShardEntry shard : manifest.shards()) {
      byte[] bytes = Files.readAllBytes(golden().resolve(shard.path()));
      assertThat(bytes.length).as(shard.path()).isEqualTo(shard.bytes());
      assertThat(ShardFixtures.sha256Hex(bytes)).as(shard.path()).isEqualTo(shard.sha256());
    }
  }

  @Test
  void goldenShardRowsReadBack() throws IOException {
    Path root = ShardFixtures.hadoopPath(golden());
    List<ImageRow> train = new ArrayList<>();
    for (String name : List.of("part-00000.parquet", "part-00001.parquet")) {
      train.addAll(
          ShardFixtures.readAll(conf, new Path(root, "train/" + name), ShardReadOptions.ALL));
    }

    assertThat(train)
        .extracting(ImageRow::imageId, ImageRow::key, ImageRow::label, ImageRow::wnid)
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple(0L, "n01440764_0", 0, "n01440764"),
            org.assertj.core.groups.Tuple.tuple(3L, "n01484850_3", 2, "n01484850"),
            org.assertj.core.groups.Tuple.tuple(1L, "n01443537_1", 1, "n01443537"));
    ImageRow first = train.get(0);
    assertThat(first.format()).isEqualTo("png");
    assertThat(first.width()).isEqualTo(4);
    assertThat(first.height()).isEqualTo(3);
    assertThat(first.split()).isEqualTo("train");
    assertThat(first.source()).isEqualTo("train/n01440764/n01440764_0.png");
    assertThat(first.reencoded()).isNull();
    assertThat(first.sha256()).isEqualTo(ShardFixtures.sha256Hex(first.image()));
    assertThat(RgbImage.decode(first.image(), "golden"))
        .isEqualTo(RgbImage.fromBufferedImage(ShardFixtures.pattern(4, 3, 1)));
  }

  @Test
  void goldenRejectsReadBack() throws IOException {
    Path root = ShardFixtures.hadoopPath(golden());

    assertThat(RejectReader.readAll(conf, RejectSchema.path(root))).isEqualTo(GoldenFiles.REJECTS);
  }

  @Test
  void goldenSplitOpensAsADataset() throws IOException {
    ShardImageDataset val = ShardImageDataset.open(conf, ShardFixtures.hadoopPath(golden()), "val");

    assertThat(val.size()).isEqualTo(2);
    assertThat(val.numClasses()).isEqualTo(3);
    assertThat(new int[] {val.label(0), val.label(1)}).containsExactly(1, 0);
    assertThat(val.image(1)).isEqualTo(RgbImage.fromBufferedImage(ShardFixtures.pattern(4, 3, 5)));
  }
}
