package org.dtmspark.data.plan;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.dtmspark.data.plan.InputTrees.bytes;
import static org.dtmspark.data.plan.InputTrees.hadoop;
import static org.dtmspark.data.plan.InputTrees.localFs;
import static org.dtmspark.data.plan.InputTrees.location;
import static org.dtmspark.data.plan.InputTrees.write;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ImageFolderScanTest {
  @TempDir Path root;

  @BeforeEach
  void tree() throws IOException {
    write(root, "train/n01/n01_1.JPEG", bytes("a", 10));
    write(root, "train/n01/n01_2.JPEG", bytes("b", 11));
    write(root, "train/n02/n02_1.JPEG", bytes("c", 12));
    write(root, "train/n02/deeper/n02_2.JPEG", bytes("d", 13));
    write(root, "train/n02/.DS_Store", bytes("e", 5));
    write(root, "train/n02/Thumbs.db", bytes("f", 5));
    write(root, "train/n02/notes.txt", "notes");
    write(root, "train/n02/__MACOSX/._n02_1.JPEG", bytes("g", 5));
    write(root, "train/stray.JPEG", bytes("h", 14));
    Files.createDirectories(root.resolve("train/n04"));
    write(root, "val/n01/v1.JPEG", bytes("i", 15));
    write(root, "val/n03/v2.JPEG", bytes("j", 16));
    write(root, "README.md", "readme");
    write(root, ".git/config", "x");
  }

  private Listing scan(ScanOptions options) throws IOException {
    return InputScanner.scan(localFs(), hadoop(root), InputLayout.IMAGE_FOLDER, options);
  }

  @Test
  void everyFileIsAnImageASkippedFileOrAReject() throws IOException {
    Listing listing = scan(ScanOptions.defaults());

    assertThat(listing.images())
        .containsExactly(
            new SourceImage(
                "train", "n01", "n01_1", location(root.resolve("train/n01/n01_1.JPEG")), 10),
            new SourceImage(
                "train", "n01", "n01_2", location(root.resolve("train/n01/n01_2.JPEG")), 11),
            new SourceImage(
                "train", "n02", "n02_1", location(root.resolve("train/n02/n02_1.JPEG")), 12),
            new SourceImage(
                "train", "n02", "n02_2", location(root.resolve("train/n02/deeper/n02_2.JPEG")), 13),
            new SourceImage("val", "n01", "v1", location(root.resolve("val/n01/v1.JPEG")), 15));
    assertThat(listing.skipped())
        .containsExactly(
            new SkippedFile(location(root.resolve(".git")), "hidden directory"),
            new SkippedFile(location(root.resolve("README.md")), "known non-image file type (.md)"),
            new SkippedFile(location(root.resolve("train/n02/.DS_Store")), "hidden file"),
            new SkippedFile(
                location(root.resolve("train/n02/Thumbs.db")), "known non-image file (Thumbs.db)"),
            new SkippedFile(
                location(root.resolve("train/n02/__MACOSX/._n02_1.JPEG")),
                "in hidden directory __MACOSX"),
            new SkippedFile(
                location(root.resolve("train/n02/notes.txt")), "known non-image file type (.txt)"));
    assertThat(listing.rejects())
        .containsExactly(
            new ListingReject(
                location(root.resolve("train/stray.JPEG")),
                "not inside a class directory (expected train/<class>/<image>)"),
            new ListingReject(location(root.resolve("val/n03/v2.JPEG")), "unknown wnid n03"));
    // train's class directories, the empty one included; val's n03 is not a class
    assertThat(listing.synsets().wnids()).containsExactly("n01", "n02", "n04");
    assertThat(listing.entriesFound()).isEqualTo(13);
  }

  @Test
  void locationsOpenAgainEvenWithSpacesAndPercentSigns() throws IOException {
    Path odd = root.resolve("odd dir");
    byte[] content = bytes("odd", 33);
    write(odd, "train/n 01/a b%20c.JPEG", content);

    Listing listing =
        InputScanner.scan(localFs(), hadoop(odd), InputLayout.IMAGE_FOLDER, ScanOptions.defaults());

    SourceImage image = listing.images().get(0);
    assertThat(image.wnid()).isEqualTo("n 01");
    assertThat(image.key()).isEqualTo("a b%20c");
    assertThat(SourceBytes.read(localFs(), image)).isEqualTo(content);
  }

  @Test
  void sameTreeGivesTheSameListing() throws IOException {
    assertThat(scan(ScanOptions.defaults())).isEqualTo(scan(ScanOptions.defaults()));
  }

  @Test
  void unselectedSplitIsSkippedAndTrainStillDefinesTheClasses() throws IOException {
    Listing listing = scan(ScanOptions.defaults().withSplits("val"));

    assertThat(listing.images()).extracting(SourceImage::key).containsExactly("v1");
    assertThat(listing.skipped())
        .contains(new SkippedFile(location(root.resolve("train")), "split not selected, not read"));
    assertThat(listing.synsets().wnids()).containsExactly("n01", "n02", "n04");
  }

  @Test
  void withoutATrainSplitEverySplitsClassesAreKnown() throws IOException {
    Path other = root.resolve("other");
    write(other, "a/n05/x.JPEG", bytes("x", 3));
    write(other, "b/n06/y.JPEG", bytes("y", 3));

    Listing listing =
        InputScanner.scan(
            localFs(), hadoop(other), InputLayout.IMAGE_FOLDER, ScanOptions.defaults());

    assertThat(listing.synsets().wnids()).containsExactly("n05", "n06");
    assertThat(listing.images()).extracting(SourceImage::split).containsExactly("a", "b");
    assertThat(listing.rejects()).isEmpty();
  }

  @Test
  void aGivenSynsetFileRejectsTrainImagesOfOtherClasses() throws IOException {
    Path synsets =
        write(root.getParent(), "synsets-" + root.getFileName() + ".txt", "n01 x\nn03 y\n");

    Listing listing = scan(ScanOptions.defaults().withSynsetFile(hadoop(synsets)));

    assertThat(listing.synsets().wnids()).containsExactly("n01", "n03");
    assertThat(listing.images())
        .extracting(SourceImage::key)
        .containsExactly("n01_1", "n01_2", "v1", "v2");
    assertThat(listing.rejects())
        .extracting(ListingReject::reason)
        .containsExactly(
            "unknown wnid n02",
            "unknown wnid n02",
            "not inside a class directory (expected train/<class>/<image>)");
  }

  @Test
  void missingSplitAndValLabelsAreErrors() {
    assertThatThrownBy(() -> scan(ScanOptions.defaults().withSplits("test")))
        .hasMessageContaining("Split test was asked for, but")
        .hasMessageContaining("has splits [train, val]");
    assertThatThrownBy(() -> scan(ScanOptions.defaults().withValLabels(hadoop(root.resolve("x")))))
        .hasMessageContaining("A val label file applies to the kaggle and ilsvrc-archives layouts");
  }

  @Test
  void rootWithoutDirectoriesIsAnErrorNamingIt() throws IOException {
    Path flat = root.resolve("flat");
    write(flat, "a.JPEG", bytes("a", 3));

    assertThatThrownBy(
            () ->
                InputScanner.scan(
                    localFs(), hadoop(flat), InputLayout.IMAGE_FOLDER, ScanOptions.defaults()))
        .hasMessageContaining(
            "flat has no split directory; expected <root>/<split>/<class>/<image>");
  }
}
