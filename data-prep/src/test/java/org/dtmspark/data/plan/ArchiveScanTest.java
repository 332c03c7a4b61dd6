package org.dtmspark.data.plan;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.tuple;
import static org.dtmspark.data.plan.InputTrees.bytes;
import static org.dtmspark.data.plan.InputTrees.hadoop;
import static org.dtmspark.data.plan.InputTrees.localFs;
import static org.dtmspark.data.plan.InputTrees.location;
import static org.dtmspark.data.plan.InputTrees.members;
import static org.dtmspark.data.plan.InputTrees.tar;
import static org.dtmspark.data.plan.InputTrees.write;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.apache.hadoop.fs.FileSystem;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ArchiveScanTest {
  /** A name of exactly 100 bytes, the most a plain ustar header holds. */
  private static final String LONG_KEY = "n02_" + "x".repeat(91);

  @TempDir Path dir;
  private Path archives;
  private Path unpacked;

  /** Member name to bytes of every image, train and val. */
  private final Map<String, byte[]> content = new LinkedHashMap<>();

  @BeforeEach
  void inputs() throws IOException {
    archives = dir.resolve("archives");
    unpacked = dir.resolve("unpacked");
    Map<String, byte[]> n01 =
        members(
            "n01/", new byte[0],
            "n01/n01_1.JPEG", bytes("a", 700),
            "n01/n01_2.JPEG", bytes("b", 512),
            "n01/._n01_2.JPEG", bytes("m", 9),
            "n01/link.JPEG", null);
    Map<String, byte[]> n02 =
        members(
            "n02_1.JPEG",
            bytes("c", 1),
            LONG_KEY + ".JPEG",
            bytes("d", 1500),
            "n02_3.JPEG",
            new byte[0]);
    Map<String, byte[]> val =
        members(
            "ILSVRC2012_val_00000001.JPEG", bytes("e", 300),
            "ILSVRC2012_val_00000002.JPEG", bytes("f", 301),
            "ILSVRC2012_val_00000003.JPEG", bytes("g", 302));
    Files.createDirectories(archives);
    Files.write(
        archives.resolve(InputLayout.TRAIN_ARCHIVE),
        tar(members("n01.tar", tar(n01), "n02.tar", tar(n02))));
    Files.write(archives.resolve(InputLayout.VAL_ARCHIVE), tar(val));
    write(
        archives,
        "val_labels.txt",
        "ILSVRC2012_val_00000001.JPEG n01\nILSVRC2012_val_00000002.JPEG n02\n"
            + "ILSVRC2012_val_00000003.JPEG n02\n");
    write(archives, "ILSVRC2012_devkit_t12.tar.gz", bytes("devkit", 10));

    for (Map.Entry<String, byte[]> e : n01.entrySet()) {
      if (e.getValue() != null && !e.getKey().endsWith("/")) {
        write(unpacked, "train/" + e.getKey(), e.getValue());
        content.put("n01.tar!/" + e.getKey(), e.getValue());
      }
    }
    for (Map.Entry<String, byte[]> e : n02.entrySet()) {
      write(unpacked, "train/n02/" + e.getKey(), e.getValue());
      content.put("n02.tar!/" + e.getKey(), e.getValue());
    }
    String[] valWnids = {"n01", "n02", "n02"};
    int i = 0;
    for (Map.Entry<String, byte[]> e : val.entrySet()) {
      write(unpacked, "val/" + valWnids[i++] + "/" + e.getKey(), e.getValue());
      content.put(e.getKey(), e.getValue());
    }
  }

  private Listing scanArchives(ScanOptions options) throws IOException {
    return InputScanner.scan(localFs(), hadoop(archives), InputLayout.ILSVRC_ARCHIVES, options);
  }

  private static List<List<Object>> identities(Listing listing) {
    return listing.images().stream()
        .map(im -> List.<Object>of(im.split(), im.wnid(), im.key(), im.size()))
        .collect(Collectors.toList());
  }

  @Test
  void archivesGiveTheSameImagesAsTheUnpackedTree() throws IOException {
    Listing fromArchives = scanArchives(ScanOptions.defaults());
    Listing fromTree =
        InputScanner.scan(
            localFs(), hadoop(unpacked), InputLayout.IMAGE_FOLDER, ScanOptions.defaults());

    assertThat(identities(fromArchives)).hasSize(8).isEqualTo(identities(fromTree));
    assertThat(fromArchives.entriesFound()).isEqualTo(12);
    assertThat(fromArchives.synsets()).isEqualTo(fromTree.synsets());
    assertThat(fromArchives.skipped())
        .extracting(SkippedFile::location, SkippedFile::reason)
        .containsExactly(
            tuple(
                location(archives.resolve("ILSVRC2012_devkit_t12.tar.gz")),
                "file that is not an ILSVRC2012 image archive, not read"),
            tuple(
                location(archives.resolve(InputLayout.TRAIN_ARCHIVE))
                    + "!/n01.tar!/n01/._n01_2.JPEG",
                "hidden file"),
            tuple(
                location(archives.resolve(InputLayout.TRAIN_ARCHIVE)) + "!/n01.tar!/n01/link.JPEG",
                "not a regular file (tar link or special entry)"),
            tuple(
                location(archives.resolve("val_labels.txt")),
                "file that is not an ILSVRC2012 image archive, not read"));
    assertThat(fromArchives.rejects()).isEmpty();
    assertThat(fromArchives.images())
        .extracting(SourceImage::location)
        .contains(
            location(archives.resolve(InputLayout.TRAIN_ARCHIVE))
                + "!/n02.tar!/"
                + LONG_KEY
                + ".JPEG",
            location(archives.resolve(InputLayout.VAL_ARCHIVE)) + "!/ILSVRC2012_val_00000002.JPEG");
  }

  @Test
  void everyMemberIsReadBackFromItsOffset() throws IOException {
    FileSystem fs = localFs();
    Listing listing = scanArchives(ScanOptions.defaults());

    for (SourceImage image : listing.images()) {
      List<String> parts = TarArchives.parts(image.location());
      String member = String.join("!/", parts.subList(1, parts.size()));
      assertThat(image.inArchive()).isTrue();
      assertThat(SourceBytes.read(fs, image)).as(member).isEqualTo(content.get(member));
      try (var in = SourceBytes.open(fs, image)) {
        assertThat(in.readAllBytes()).as(member).isEqualTo(content.get(member));
      }
    }
  }

  @Test
  void forEachMemberStreamsAClassArchiveOrTheValArchive() throws IOException {
    FileSystem fs = localFs();
    String train = location(archives.resolve(InputLayout.TRAIN_ARCHIVE));
    Map<String, byte[]> streamed = new LinkedHashMap<>();

    TarArchives.forEachMember(
        fs,
        TarArchives.location(train, "n02.tar"),
        (loc, in) -> streamed.put(loc, in.readAllBytes()));

    assertThat(new ArrayList<>(streamed.keySet()))
        .containsExactly(
            train + "!/n02.tar!/n02_1.JPEG",
            train + "!/n02.tar!/" + LONG_KEY + ".JPEG",
            train + "!/n02.tar!/n02_3.JPEG");
    assertThat(streamed.get(train + "!/n02.tar!/" + LONG_KEY + ".JPEG"))
        .isEqualTo(content.get("n02.tar!/" + LONG_KEY + ".JPEG"));

    List<String> valMembers = new ArrayList<>();
    TarArchives.forEachMember(
        fs,
        location(archives.resolve(InputLayout.VAL_ARCHIVE)),
        (loc, in) -> {
          String name = TarArchives.parts(loc).get(1);
          assertThat(in.readAllBytes()).isEqualTo(content.get(name));
          in.close(); // allowed: does not close the archive
          valMembers.add(name);
        });
    assertThat(valMembers).hasSize(3);

    assertThatThrownBy(
            () ->
                TarArchives.forEachMember(
                    fs, TarArchives.location(train, "n09.tar"), (l, in) -> {}))
        .isInstanceOf(FileNotFoundException.class)
        .hasMessage("No member n09.tar in archive " + train);
  }

  @Test
  void strayAndBrokenMembersOfTheTrainArchiveAreRejects() throws IOException {
    byte[] broken = bytes("not a tar", 1024);
    Files.write(
        archives.resolve(InputLayout.TRAIN_ARCHIVE),
        tar(
            members(
                "n01.tar", tar(members("n01_1.JPEG", bytes("a", 10))),
                "n03.tar", broken,
                "loose.JPEG", bytes("l", 10),
                "notes.txt", bytes("t", 10))));
    String train = location(archives.resolve(InputLayout.TRAIN_ARCHIVE));

    Listing listing = scanArchives(ScanOptions.defaults().withSplits("train"));

    assertThat(listing.images()).extracting(SourceImage::key).containsExactly("n01_1");
    assertThat(listing.rejects())
        .extracting(ListingReject::location)
        .containsExactly(train + "!/loose.JPEG", train + "!/n03.tar");
    assertThat(listing.rejects().get(0).reason()).startsWith("not inside a class archive");
    assertThat(listing.rejects().get(1).reason())
        .startsWith("class archive unreadable after 0 members");
    assertThat(listing.skipped())
        .extracting(SkippedFile::location, SkippedFile::reason)
        .contains(
            tuple(train + "!/notes.txt", "known non-image file type (.txt)"),
            tuple(
                location(archives.resolve(InputLayout.VAL_ARCHIVE)),
                "split not selected, not read"));
    // the class tar names the class even when it cannot be read
    assertThat(listing.synsets().wnids()).containsExactly("n01", "n03");
  }

  @Test
  void valOnlyTakesItsClassesFromTheLabelsAndRejectsUnlabelledMembers() throws IOException {
    Path labels =
        write(dir, "kaggle.csv", "ImageId,PredictionString\nILSVRC2012_val_00000001,n07 1 2 3 4\n");

    Listing listing =
        scanArchives(ScanOptions.defaults().withSplits("val").withValLabels(hadoop(labels)));

    assertThat(listing.images()).extracting(SourceImage::wnid).containsExactly("n07");
    assertThat(listing.synsets().wnids()).containsExactly("n07");
    assertThat(listing.rejects())
        .extracting(ListingReject::reason)
        .containsExactly(
            "no label row for ILSVRC2012_val_00000002 in " + location(labels),
            "no label row for ILSVRC2012_val_00000003 in " + location(labels));
  }

  @Test
  void longMemberNamesKeepTheOffsetsRightOrFailNamingTheMissingLibrary() throws IOException {
    String longName = "n05/n05_" + "y".repeat(150) + ".JPEG";
    byte[] image = bytes("long", 999);
    Files.write(
        archives.resolve(InputLayout.TRAIN_ARCHIVE),
        tar(
            members(
                "n05.tar",
                tar(
                    members(
                        "n05/a.JPEG",
                        bytes("a", 3),
                        longName,
                        image,
                        "n05/b.JPEG",
                        bytes("b", 4))))));
    ScanOptions trainOnly = ScanOptions.defaults().withSplits("train");

    if (!lang3Present()) {
      assertThatThrownBy(() -> scanArchives(trainOnly))
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("needs commons-lang3 3.13 or later");
      return;
    }
    Listing listing = scanArchives(trainOnly);
    assertThat(listing.images()).extracting(SourceImage::size).containsExactly(3L, 4L, 999L);
    SourceImage longOne = listing.images().get(2);
    assertThat(longOne.location()).endsWith("!/n05.tar!/" + longName);
    assertThat(SourceBytes.read(localFs(), longOne)).isEqualTo(image);
    assertThat(SourceBytes.read(localFs(), listing.images().get(1))).isEqualTo(bytes("b", 4));
  }

  private static boolean lang3Present() {
    try {
      Class.forName("org.apache.commons.lang3.SystemProperties");
      return true;
    } catch (ClassNotFoundException e) {
      return false;
    }
  }

  @Test
  void valArchiveWithoutLabelsIsAnError() throws IOException {
    Files.delete(archives.resolve("val_labels.txt"));

    assertThatThrownBy(() -> scanArchives(ScanOptions.defaults()))
        .hasMessageContaining(
            "ILSVRC2012_img_val.tar needs a label file: give it with --val-labels")
        .hasMessageContaining(location(archives.resolve("val_labels.txt")));
  }

  @Test
  void rootWithoutArchivesIsAnError() {
    assertThatThrownBy(
            () ->
                InputScanner.scan(
                    localFs(),
                    hadoop(unpacked),
                    InputLayout.ILSVRC_ARCHIVES,
                    ScanOptions.defaults()))
        .hasMessageContaining(
            "is not in the ilsvrc-archives layout: expected ILSVRC2012_img_train.tar");
  }
}
