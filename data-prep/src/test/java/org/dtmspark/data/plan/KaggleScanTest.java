package org.dtmspark.data.plan;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.tuple;
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

class KaggleScanTest {
  private static final String DATA = "ILSVRC/Data/CLS-LOC/";

  @TempDir Path root;

  @BeforeEach
  void tree() throws IOException {
    write(root, "LOC_synset_mapping.txt", "n01 tench, Tinca tinca\nn02 goldfish\nn05 unused\n");
    write(
        root,
        "LOC_val_solution.csv",
        "ImageId,PredictionString\n"
            + "ILSVRC2012_val_00000001,n02 1 2 3 4 n01 5 6 7 8 \n"
            + "ILSVRC2012_val_00000002,n01 10 20 30 40\n"
            + "ILSVRC2012_val_00000003,n99 1 1 2 2\n"
            + "ILSVRC2012_val_00000009,n01 1 1 2 2\n");
    write(root, DATA + "train/n01/n01_1.JPEG", bytes("a", 21));
    write(root, DATA + "train/n02/n02_1.JPEG", bytes("b", 22));
    write(root, DATA + "val/ILSVRC2012_val_00000001.JPEG", bytes("c", 23));
    write(root, DATA + "val/ILSVRC2012_val_00000002.JPEG", bytes("d", 24));
    write(root, DATA + "val/ILSVRC2012_val_00000003.JPEG", bytes("e", 25));
    write(root, DATA + "val/ILSVRC2012_val_00000004.JPEG", bytes("f", 26));
    write(root, DATA + "val/.DS_Store", bytes("g", 3));
    write(root, DATA + "test/ILSVRC2012_test_00000001.JPEG", bytes("h", 27));
  }

  private Listing scan(Path dir, ScanOptions options) throws IOException {
    return InputScanner.scan(localFs(), hadoop(dir), InputLayout.KAGGLE, options);
  }

  @Test
  void valIsLabelledByTheFirstWnidOfItsCsvRow() throws IOException {
    Listing listing = scan(root, ScanOptions.defaults());

    assertThat(listing.images())
        .extracting(SourceImage::split, SourceImage::wnid, SourceImage::key, SourceImage::size)
        .containsExactly(
            tuple("train", "n01", "n01_1", 21L),
            tuple("train", "n02", "n02_1", 22L),
            tuple("val", "n01", "ILSVRC2012_val_00000002", 24L),
            tuple("val", "n02", "ILSVRC2012_val_00000001", 23L));
    assertThat(listing.rejects())
        .containsExactly(
            new ListingReject(
                location(root.resolve(DATA + "val/ILSVRC2012_val_00000003.JPEG")),
                "unknown wnid n99"),
            new ListingReject(
                location(root.resolve(DATA + "val/ILSVRC2012_val_00000004.JPEG")),
                "no label row for ILSVRC2012_val_00000004 in "
                    + location(root.resolve("LOC_val_solution.csv"))));
    assertThat(listing.skipped())
        .containsExactly(
            new SkippedFile(
                location(root.resolve(DATA + "test")), "split test is not read in this layout"),
            new SkippedFile(location(root.resolve(DATA + "val/.DS_Store")), "hidden file"));
    assertThat(listing.synsets().wnids()).containsExactly("n01", "n02", "n05");
  }

  @Test
  void theClsLocDirectoryAsRootFindsTheLabelFilesThreeLevelsUp() throws IOException {
    Listing fromTop = scan(root, ScanOptions.defaults());
    Listing fromData = scan(root.resolve(DATA), ScanOptions.defaults());

    assertThat(fromData).isEqualTo(fromTop);
    assertThat(InputLayout.detect(localFs(), hadoop(root.resolve(DATA))))
        .isEqualTo(InputLayout.KAGGLE);
  }

  @Test
  void withoutTheMappingFileTheTrainClassesAreTheSynsets() throws IOException {
    Files.delete(root.resolve("LOC_synset_mapping.txt"));

    Listing listing = scan(root, ScanOptions.defaults());

    assertThat(listing.synsets().wnids()).containsExactly("n01", "n02");
  }

  @Test
  void aGivenLabelFileReplacesTheCsv() throws IOException {
    Path labels =
        write(
            root,
            "my-labels.txt",
            "ILSVRC2012_val_00000001.JPEG n01\nILSVRC2012_val_00000004.JPEG n05\n");

    Listing listing =
        scan(root, ScanOptions.defaults().withSplits("val").withValLabels(hadoop(labels)));

    assertThat(listing.images())
        .extracting(SourceImage::wnid, SourceImage::key)
        .containsExactly(
            tuple("n01", "ILSVRC2012_val_00000001"), tuple("n05", "ILSVRC2012_val_00000004"));
    assertThat(listing.rejects())
        .extracting(ListingReject::reason)
        .allMatch(r -> r.startsWith("no label row"));
  }

  @Test
  void missingValLabelsIsAnErrorNamingWhereItLooked() throws IOException {
    Files.delete(root.resolve("LOC_val_solution.csv"));

    assertThatThrownBy(() -> scan(root, ScanOptions.defaults()))
        .hasMessageContaining("needs LOC_val_solution.csv, not found in [" + location(root) + "]")
        .hasMessageContaining("--val-labels");
    assertThat(scan(root, ScanOptions.defaults().withSplits("train")).images()).hasSize(2);
  }

  @Test
  void theTestSplitCannotBeAskedFor() {
    assertThatThrownBy(() -> scan(root, ScanOptions.defaults().withSplits("test")))
        .hasMessage("Split test cannot be read in this layout; it reads [train, val]");
  }
}
