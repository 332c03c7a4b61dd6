package org.dtmspark.data.plan;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/**
 * Finds the input images under a root on any Hadoop filesystem, in one of the {@link InputLayout}s,
 * and accounts for every entry it looks at: a candidate image, a skipped entry, or a reject. File
 * contents are not inspected (validation is the shard job's). A tar archive is streamed once from
 * start to end (tar has no index), never unpacked to disk; each member is recorded with its byte
 * offset in the archive file, so that the shard job reads any member with one seek ({@link
 * SourceBytes#open}), many shards in parallel. Member names are checked by the same rules as files.
 * Directory and link entries are not images: directories are ignored, links skipped.
 *
 * <p>Rules shared by the layouts:
 *
 * <ul>
 *   <li>Hidden files (name starting with {@code .}, e.g. {@code .DS_Store}), files in hidden
 *       directories or {@code __MACOSX}, and known non-image files ({@code Thumbs.db}, {@code
 *       *.txt}, {@code *.csv}, {@code *.json}, {@code *.xml}, {@code *.md}, ...) are skipped with
 *       the reason. So are directories that are not read: hidden ones and splits not selected
 *       (listed once, not descended), and, beside the ILSVRC2012 archives, every other entry.
 *   <li>Everything else is a candidate image; its class is its class directory (or class tar), or
 *       for a flat val split its row in the label file. A candidate without a class (a file outside
 *       any class directory, a val image without a label row) or whose class is not in the synset
 *       list is a reject with the reason ({@code unknown wnid n99999999}).
 *   <li>The synset list is {@link ScanOptions#synsetFile()} when given; otherwise the Kaggle
 *       layout's {@code LOC_synset_mapping.txt}; otherwise the class directories (or class tars) of
 *       the {@code train} split; otherwise, without a train split, the classes of the splits read
 *       (class directories, or the wnids of the val label file).
 *   <li>Every list is sorted, so the same input gives the same listing.
 * </ul>
 *
 * <p>A listing of full ImageNet holds 1.33 million images, a few hundred MB on the driver.
 */
public final class InputScanner {
  /** The split whose classes define the default synset list. */
  public static final String TRAIN = "train";

  /** The split labelled by a label file in the Kaggle and archive layouts. */
  public static final String VAL = "val";

  private static final String KAGGLE_VAL_LABELS = "LOC_val_solution.csv";
  private static final String KAGGLE_SYNSETS = "LOC_synset_mapping.txt";
  private static final String PLAIN_VAL_LABELS = "val_labels.txt";
  private static final String NOT_SELECTED = "split not selected, not read";

  private final FileSystem fs;
  private final Path root;
  private final ScanOptions options;
  private final List<SourceImage> images = new ArrayList<>();
  private final List<SkippedFile> skipped = new ArrayList<>();
  private final List<ListingReject> rejects = new ArrayList<>();

  private InputScanner(FileSystem fs, Path root, ScanOptions options) {
    this.fs = fs;
    this.root = root;
    this.options = options;
  }

  /**
   * Lists the input under {@code root}.
   *
   * @param fs the filesystem of {@code root}
   * @param layout the layout, from {@link InputLayout#detect} or named by the user
   * @throws IllegalArgumentException when the root does not have the layout's structure, a named
   *     split is missing, or a label or synset file is missing or malformed; the message names the
   *     path and what was expected
   */
  public static Listing scan(FileSystem fs, Path root, InputLayout layout, ScanOptions options)
      throws IOException {
    Path qualified = fs.makeQualified(root);
    FileStatus status = Listings.statusOrNull(fs, qualified);
    if (status == null || !status.isDirectory()) {
      throw new IllegalArgumentException(
          "Input root must be an existing directory, cannot be: " + root);
    }
    InputScanner scanner = new InputScanner(fs, qualified, options);
    SynsetList synsets =
        switch (layout) {
          case IMAGE_FOLDER -> scanner.scanImageFolder();
          case KAGGLE -> scanner.scanKaggle();
          case ILSVRC_ARCHIVES -> scanner.scanArchives();
        };
    return scanner.finish(synsets);
  }

  // ---------------------------------------------------------------- ImageFolder

  private SynsetList scanImageFolder() throws IOException {
    if (options.valLabels() != null) {
      throw new IllegalArgumentException(
          "A val label file applies to the kaggle and ilsvrc-archives layouts, not to "
              + InputLayout.IMAGE_FOLDER
              + " (whose val images are labelled by their class directory): "
              + options.valLabels());
    }
    List<FileStatus> splitDirs = splitDirectories(root, "<root>/<split>/<class>/<image>");
    List<FileStatus> selected = select(splitDirs, null);
    SynsetList synsets = explicitSynsets();
    if (synsets == null) {
      Path train = new Path(root, TRAIN);
      synsets =
          Listings.isDirectory(fs, train)
              ? SynsetList.fromWnids(classDirectories(train))
              : SynsetList.fromWnids(classesOf(selected));
    }
    for (FileStatus split : selected) {
      walkClassDirectories(split);
    }
    return synsets;
  }

  private List<String> classesOf(List<FileStatus> splits) throws IOException {
    Set<String> classes = new TreeSet<>();
    for (FileStatus split : splits) {
      classes.addAll(classDirectories(split.getPath()));
    }
    return new ArrayList<>(classes);
  }

  private List<String> classDirectories(Path split) throws IOException {
    List<String> classes = new ArrayList<>();
    for (FileStatus child : Listings.children(fs, split)) {
      String name = child.getPath().getName();
      if (child.isDirectory() && !Listings.isHiddenName(name)) {
        classes.add(name);
      }
    }
    return classes;
  }

  /** {@code <split>/<class>/.../<image>}: the class is the first directory. */
  private void walkClassDirectories(FileStatus split) throws IOException {
    String name = split.getPath().getName();
    for (Listings.Found file : Listings.walk(fs, split.getPath())) {
      String location = file.status().getPath().toString();
      String reason = Listings.skipReason(file.relative());
      if (reason != null) {
        skipped.add(new SkippedFile(location, reason));
      } else if (file.relative().size() < 2) {
        rejects.add(
            new ListingReject(
                location, "not inside a class directory (expected " + name + "/<class>/<image>)"));
      } else {
        images.add(
            new SourceImage(
                name,
                file.relative().get(0),
                Listings.stem(file.name()),
                location,
                file.status().getLen()));
      }
    }
  }

  // ---------------------------------------------------------------- Kaggle

  /** Where the Kaggle layout keeps its images and its label files. */
  record KaggleDirs(Path data, List<Path> metadata) {
    private static final List<String> DATA_PATH = List.of("ILSVRC", "Data", "CLS-LOC");

    /** The Kaggle directories of {@code root}, or {@code null} when it is not a Kaggle layout. */
    static KaggleDirs locate(FileSystem fs, Path root) throws IOException {
      Path data = new Path(root, String.join("/", DATA_PATH));
      if (Listings.isDirectory(fs, data)) {
        return new KaggleDirs(data, List.of(root));
      }
      Path p = root;
      for (int i = DATA_PATH.size() - 1; i >= 0 && p != null; i--) {
        if (!p.getName().equals(DATA_PATH.get(i))) {
          p = null;
        } else {
          p = p.getParent();
        }
      }
      if (p != null) {
        return new KaggleDirs(root, List.of(root, p));
      }
      if (Listings.isFile(fs, new Path(root, KAGGLE_VAL_LABELS))
          && Listings.isDirectory(fs, new Path(root, VAL))) {
        return new KaggleDirs(root, List.of(root));
      }
      return null;
    }

    /** The first of the metadata directories that holds {@code name}, or {@code null}. */
    Path find(FileSystem fs, String name) throws IOException {
      for (Path dir : metadata) {
        Path file = new Path(dir, name);
        if (Listings.isFile(fs, file)) {
          return file;
        }
      }
      return null;
    }
  }

  private SynsetList scanKaggle() throws IOException {
    KaggleDirs dirs = KaggleDirs.locate(fs, root);
    if (dirs == null) {
      throw new IllegalArgumentException(
          "Input root "
              + root
              + " is not in the kaggle layout: expected <root>/ILSVRC/Data/CLS-LOC/{train,val}, or"
              + " train/ and a flat val/ beside "
              + KAGGLE_VAL_LABELS);
    }
    List<FileStatus> splitDirs = splitDirectories(dirs.data(), "train/<wnid>/ and val/");
    List<FileStatus> selected = select(splitDirs, Set.of(TRAIN, VAL));
    FileStatus train = find(selected, TRAIN);
    FileStatus val = find(selected, VAL);
    ValLabels labels = null;
    if (val != null) {
      Path file = options.valLabels();
      if (file == null) {
        file = dirs.find(fs, KAGGLE_VAL_LABELS);
      }
      if (file == null) {
        throw new IllegalArgumentException(
            "The kaggle val split "
                + val.getPath()
                + " needs "
                + KAGGLE_VAL_LABELS
                + ", not found in "
                + dirs.metadata()
                + "; give the label file with --val-labels");
      }
      labels = ValLabels.read(file.getFileSystem(fs.getConf()), file);
    }
    SynsetList synsets = explicitSynsets();
    if (synsets == null) {
      Path mapping = dirs.find(fs, KAGGLE_SYNSETS);
      Path trainDir = new Path(dirs.data(), TRAIN);
      if (mapping != null) {
        synsets = SynsetList.read(fs, mapping);
      } else if (Listings.isDirectory(fs, trainDir)) {
        synsets = SynsetList.fromWnids(classDirectories(trainDir));
      } else {
        synsets = SynsetList.fromWnids(labels == null ? List.of() : labels.wnids());
      }
    }
    if (train != null) {
      walkClassDirectories(train);
    }
    if (val != null) {
      for (Listings.Found file : Listings.walk(fs, val.getPath())) {
        labelledMember(
            VAL,
            file.relative(),
            file.status().getPath().toString(),
            file.status().getLen(),
            -1,
            labels);
      }
    }
    return synsets;
  }

  // ---------------------------------------------------------------- ILSVRC2012 archives

  private SynsetList scanArchives() throws IOException {
    Path trainArchive = null;
    Path valArchive = null;
    for (FileStatus child : Listings.children(fs, root)) {
      String name = child.getPath().getName();
      String location = child.getPath().toString();
      if (child.isFile() && name.equals(InputLayout.TRAIN_ARCHIVE)) {
        trainArchive = child.getPath();
      } else if (child.isFile() && name.equals(InputLayout.VAL_ARCHIVE)) {
        valArchive = child.getPath();
      } else if (Listings.isHiddenName(name)) {
        skipped.add(
            new SkippedFile(location, child.isDirectory() ? "hidden directory" : "hidden file"));
      } else {
        skipped.add(
            new SkippedFile(
                location,
                (child.isDirectory() ? "directory" : "file")
                    + " that is not an ILSVRC2012 image archive, not read"));
      }
    }
    if (trainArchive == null && valArchive == null) {
      throw new IllegalArgumentException(
          "Input root "
              + root
              + " is not in the ilsvrc-archives layout: expected "
              + InputLayout.TRAIN_ARCHIVE
              + " and/or "
              + InputLayout.VAL_ARCHIVE
              + " in it");
    }
    Set<String> available = new LinkedHashSet<>();
    if (trainArchive != null) {
      available.add(TRAIN);
    }
    if (valArchive != null) {
      available.add(VAL);
    }
    Set<String> selected = selectNames(available, Set.of(TRAIN, VAL));
    for (String split : available) {
      if (!selected.contains(split)) {
        Path archive = split.equals(TRAIN) ? trainArchive : valArchive;
        skipped.add(new SkippedFile(archive.toString(), NOT_SELECTED));
      }
    }
    ValLabels labels = null;
    if (selected.contains(VAL)) {
      Path file = options.valLabels();
      for (String name : List.of(KAGGLE_VAL_LABELS, PLAIN_VAL_LABELS)) {
        Path candidate = new Path(root, name);
        if (file == null && Listings.isFile(fs, candidate)) {
          file = candidate;
        }
      }
      if (file == null) {
        throw new IllegalArgumentException(
            "The ILSVRC2012 val archive "
                + valArchive
                + " needs a label file: give it with --val-labels (lines"
                + " 'ILSVRC2012_val_00000001.JPEG n01751748', or Kaggle's "
                + KAGGLE_VAL_LABELS
                + "); none found at "
                + new Path(root, KAGGLE_VAL_LABELS)
                + " or "
                + new Path(root, PLAIN_VAL_LABELS));
      }
      labels = ValLabels.read(file.getFileSystem(fs.getConf()), file);
    }
    Set<String> classes = new TreeSet<>();
    if (selected.contains(TRAIN)) {
      streamTrainArchive(trainArchive, classes);
    }
    if (selected.contains(VAL)) {
      streamValArchive(valArchive, labels);
    }
    SynsetList synsets = explicitSynsets();
    if (synsets == null) {
      synsets = SynsetList.fromWnids(selected.contains(TRAIN) ? classes : labels.wnids());
    }
    return synsets;
  }

  /** The train archive: one {@code <wnid>.tar} per class, each streamed from within the outer. */
  private void streamTrainArchive(Path archive, Set<String> classes) throws IOException {
    String archiveLocation = archive.toString();
    try (CountingInputStream counter =
            new CountingInputStream(
                new BufferedInputStream(fs.open(archive), TarArchives.BUFFER_BYTES), true);
        TarArchiveInputStream tar = new TarArchiveInputStream(counter)) {
      TarArchiveEntry entry;
      while ((entry = TarArchives.next(tar)) != null) {
        if (entry.isDirectory()) {
          continue;
        }
        String location = TarArchives.location(archiveLocation, entry.getName());
        List<String> parts = List.of(entry.getName().split("/"));
        String name = parts.get(parts.size() - 1);
        String reason = entryProblem(entry, parts);
        if (reason != null) {
          addEntryProblem(location, reason);
        } else if (name.toLowerCase(Locale.ROOT).endsWith(".tar")) {
          String wnid = Listings.stem(name);
          classes.add(wnid);
          streamClassArchive(tar, counter.count(), location, wnid);
        } else {
          rejects.add(
              new ListingReject(
                  location,
                  "not inside a class archive (the train archive holds one <wnid>.tar per class)"));
        }
      }
    }
  }

  private void streamClassArchive(
      TarArchiveInputStream outer, long base, String classLocation, String wnid)
      throws IOException {
    CountingInputStream counter = new CountingInputStream(outer, false);
    int members = 0;
    try (TarArchiveInputStream tar = new TarArchiveInputStream(counter)) {
      TarArchiveEntry entry;
      while ((entry = TarArchives.next(tar)) != null) {
        if (entry.isDirectory()) {
          continue;
        }
        members++;
        String location = TarArchives.location(classLocation, entry.getName());
        List<String> parts = List.of(entry.getName().split("/"));
        String reason = entryProblem(entry, parts);
        if (reason != null) {
          addEntryProblem(location, reason);
        } else {
          images.add(
              new SourceImage(
                  TRAIN,
                  wnid,
                  Listings.stem(entry.getName()),
                  location,
                  entry.getSize(),
                  base + counter.count()));
        }
      }
    } catch (IOException e) {
      if (counter.failed()) {
        throw e;
      }
      rejects.add(
          new ListingReject(
              classLocation,
              "class archive unreadable after " + members + " members: " + e.getMessage()));
    }
  }

  /** The val archive: flat members labelled by the label file. */
  private void streamValArchive(Path archive, ValLabels labels) throws IOException {
    String archiveLocation = archive.toString();
    try (CountingInputStream counter =
            new CountingInputStream(
                new BufferedInputStream(fs.open(archive), TarArchives.BUFFER_BYTES), true);
        TarArchiveInputStream tar = new TarArchiveInputStream(counter)) {
      TarArchiveEntry entry;
      while ((entry = TarArchives.next(tar)) != null) {
        if (entry.isDirectory()) {
          continue;
        }
        String location = TarArchives.location(archiveLocation, entry.getName());
        List<String> parts = List.of(entry.getName().split("/"));
        String reason = entryProblem(entry, parts);
        if (reason != null) {
          addEntryProblem(location, reason);
        } else {
          labelledMember(VAL, parts, location, entry.getSize(), counter.count(), labels);
        }
      }
    }
  }

  /** Why a tar entry is skipped ({@code skip:} prefix) or rejected, or {@code null}. */
  private static String entryProblem(TarArchiveEntry entry, List<String> parts) {
    String skip = Listings.skipReason(parts);
    if (skip != null) {
      return "skip:" + skip;
    }
    if (!TarArchives.isRegularFile(entry)) {
      return "skip:not a regular file (tar link or special entry)";
    }
    if (entry.isSparse()) {
      return "sparse tar entry, not supported";
    }
    return null;
  }

  private void addEntryProblem(String location, String reason) {
    if (reason.startsWith("skip:")) {
      skipped.add(new SkippedFile(location, reason.substring("skip:".length())));
    } else {
      rejects.add(new ListingReject(location, reason));
    }
  }

  // ---------------------------------------------------------------- shared

  /** A file of a flat split: skipped, or labelled by its row in {@code labels}, or rejected. */
  private void labelledMember(
      String split, List<String> parts, String location, long size, long offset, ValLabels labels) {
    String reason = Listings.skipReason(parts);
    if (reason != null) {
      skipped.add(new SkippedFile(location, reason));
      return;
    }
    String key = Listings.stem(parts.get(parts.size() - 1));
    String wnid = labels.wnidOf(key);
    if (wnid == null) {
      rejects.add(
          new ListingReject(location, "no label row for " + key + " in " + labels.source()));
    } else {
      images.add(new SourceImage(split, wnid, key, location, size, offset));
    }
  }

  /**
   * The split directories of {@code dir}; its other entries are skipped (hidden, known non-image)
   * or rejected (files outside any split).
   */
  private List<FileStatus> splitDirectories(Path dir, String expected) throws IOException {
    List<FileStatus> splits = new ArrayList<>();
    for (FileStatus child : Listings.children(fs, dir)) {
      String name = child.getPath().getName();
      String location = child.getPath().toString();
      if (child.isDirectory()) {
        if (Listings.isHiddenName(name)) {
          skipped.add(new SkippedFile(location, "hidden directory"));
        } else {
          splits.add(child);
        }
      } else {
        String reason = Listings.skipReason(List.of(name));
        if (reason != null) {
          skipped.add(new SkippedFile(location, reason));
        } else {
          rejects.add(
              new ListingReject(
                  location, "not inside a split directory (expected " + expected + ")"));
        }
      }
    }
    if (splits.isEmpty()) {
      throw new IllegalArgumentException(
          "Input directory " + dir + " has no split directory; expected " + expected);
    }
    return splits;
  }

  /**
   * The split directories to read; the others are skipped. {@code readable} limits the splits the
   * layout can read ({@code null}: any); unreadable ones are skipped unless named.
   */
  private List<FileStatus> select(List<FileStatus> splits, Set<String> readable) {
    Set<String> available = new LinkedHashSet<>();
    for (FileStatus split : splits) {
      available.add(split.getPath().getName());
    }
    Set<String> selected = selectNames(available, readable);
    List<FileStatus> chosen = new ArrayList<>();
    for (FileStatus split : splits) {
      String name = split.getPath().getName();
      if (selected.contains(name)) {
        chosen.add(split);
      } else {
        boolean unreadable = readable != null && !readable.contains(name);
        skipped.add(
            new SkippedFile(
                split.getPath().toString(),
                unreadable ? "split " + name + " is not read in this layout" : NOT_SELECTED));
      }
    }
    return chosen;
  }

  private Set<String> selectNames(Set<String> available, Set<String> readable) {
    if (options.splits().isEmpty()) {
      Set<String> all = new TreeSet<>(available);
      if (readable != null) {
        all.retainAll(readable);
      }
      return all;
    }
    for (String split : options.splits()) {
      if (readable != null && !readable.contains(split)) {
        throw new IllegalArgumentException(
            "Split "
                + split
                + " cannot be read in this layout; it reads "
                + new TreeSet<>(readable));
      }
      if (!available.contains(split)) {
        throw new IllegalArgumentException(
            "Split " + split + " was asked for, but " + root + " has splits " + available);
      }
    }
    return new TreeSet<>(options.splits());
  }

  private static FileStatus find(List<FileStatus> splits, String name) {
    for (FileStatus split : splits) {
      if (split.getPath().getName().equals(name)) {
        return split;
      }
    }
    return null;
  }

  private SynsetList explicitSynsets() throws IOException {
    Path file = options.synsetFile();
    return file == null ? null : SynsetList.read(file.getFileSystem(fs.getConf()), file);
  }

  /** Rejects the images of unknown classes and sorts everything. */
  private Listing finish(SynsetList synsets) {
    List<SourceImage> known = new ArrayList<>();
    for (SourceImage image : images) {
      if (image.wnid() != null && !synsets.contains(image.wnid())) {
        rejects.add(new ListingReject(image.location(), "unknown wnid " + image.wnid()));
      } else {
        known.add(image);
      }
    }
    known.sort(SourceImage.ORDER);
    skipped.sort(Comparator.comparing(SkippedFile::location));
    rejects.sort(Comparator.comparing(ListingReject::location));
    return new Listing(known, skipped, rejects, synsets);
  }
}
