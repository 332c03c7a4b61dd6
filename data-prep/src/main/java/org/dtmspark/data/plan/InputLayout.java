package org.dtmspark.data.plan;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/**
 * How the input images are laid out under the input root. {@link #detect} tells the layouts apart;
 * {@code bin/dtm shard --layout NAME} overrides it with {@link #fromName}.
 */
public enum InputLayout {
  /**
   * {@code <root>/<split>/<class>/<image>} (torchvision's ImageFolder), for any split names: every
   * directory under the root is a split and every directory under a split is a class. Files deeper
   * inside a class directory belong to that class.
   */
  IMAGE_FOLDER("image-folder"),

  /**
   * Kaggle's ImageNet download: {@code <root>/ILSVRC/Data/CLS-LOC/train/<wnid>/<image>}, a flat
   * {@code val/}, labelled by {@code LOC_val_solution.csv}, and {@code LOC_synset_mapping.txt}. The
   * label files are looked for in the root (the competition directory); the root may also be the
   * {@code CLS-LOC} directory itself (label files then three levels up), or any directory with
   * {@code train/<wnid>/}, a flat {@code val/} and {@code LOC_val_solution.csv}.
   */
  KAGGLE("kaggle"),

  /**
   * The ILSVRC2012 archives as distributed, in the root: {@code ILSVRC2012_img_train.tar} (one
   * {@code <wnid>.tar} per class, each holding that class's JPEGs) and {@code
   * ILSVRC2012_img_val.tar} (flat JPEGs) with a label file. Read by streaming, never unpacked.
   */
  ILSVRC_ARCHIVES("ilsvrc-archives");

  /** File name of the ILSVRC2012 train archive. */
  public static final String TRAIN_ARCHIVE = "ILSVRC2012_img_train.tar";

  /** File name of the ILSVRC2012 val archive. */
  public static final String VAL_ARCHIVE = "ILSVRC2012_img_val.tar";

  private final String cliName;

  InputLayout(String cliName) {
    this.cliName = cliName;
  }

  /** The name used on the command line, e.g. {@code image-folder}. */
  public String cliName() {
    return cliName;
  }

  /**
   * The layout named {@code name}: a {@link #cliName()} or the constant's name, case-insensitive.
   */
  public static InputLayout fromName(String name) {
    for (InputLayout layout : values()) {
      if (layout.cliName.equalsIgnoreCase(name) || layout.name().equalsIgnoreCase(name)) {
        return layout;
      }
    }
    throw new IllegalArgumentException(
        "Input layout must be one of "
            + Arrays.stream(values()).map(InputLayout::cliName).collect(Collectors.toList())
            + ", cannot be: "
            + name);
  }

  /**
   * Detects the layout under {@code root}, checking in this order:
   *
   * <ol>
   *   <li>{@link #KAGGLE}: {@code <root>/ILSVRC/Data/CLS-LOC} is a directory, or the root is such a
   *       directory, or the root holds {@code LOC_val_solution.csv} and a {@code val/} directory;
   *   <li>{@link #ILSVRC_ARCHIVES}: the root holds {@value #TRAIN_ARCHIVE} or {@value
   *       #VAL_ARCHIVE};
   *   <li>{@link #IMAGE_FOLDER}: a non-hidden directory of the root holds a non-hidden directory.
   * </ol>
   *
   * @throws IllegalArgumentException when the root is missing, is a file, or matches no layout; the
   *     message names the root and what was expected
   */
  public static InputLayout detect(FileSystem fs, Path root) throws IOException {
    FileStatus status = Listings.statusOrNull(fs, root);
    if (status == null) {
      throw new IllegalArgumentException("Input root does not exist: " + root);
    }
    if (!status.isDirectory()) {
      throw new IllegalArgumentException(
          "Input root must be a directory, cannot be a file: "
              + root
              + " (for the ILSVRC2012 archives, give the directory that holds "
              + TRAIN_ARCHIVE
              + ")");
    }
    if (InputScanner.KaggleDirs.locate(fs, root) != null) {
      return KAGGLE;
    }
    List<FileStatus> children = Listings.children(fs, root);
    List<String> names = new ArrayList<>();
    for (FileStatus child : children) {
      String name = child.getPath().getName();
      names.add(name);
      if (child.isFile() && (name.equals(TRAIN_ARCHIVE) || name.equals(VAL_ARCHIVE))) {
        return ILSVRC_ARCHIVES;
      }
    }
    for (FileStatus child : children) {
      if (child.isDirectory() && !Listings.isHiddenName(child.getPath().getName())) {
        for (FileStatus grandchild : Listings.children(fs, child.getPath())) {
          if (grandchild.isDirectory() && !Listings.isHiddenName(grandchild.getPath().getName())) {
            return IMAGE_FOLDER;
          }
        }
      }
    }
    throw new IllegalArgumentException(
        "Cannot detect the input layout of "
            + root
            + ": expected "
            + "<root>/<split>/<class>/<image> directories ("
            + IMAGE_FOLDER.cliName
            + "), <root>/ILSVRC/Data/CLS-LOC with LOC_val_solution.csv ("
            + KAGGLE.cliName
            + "), or "
            + TRAIN_ARCHIVE
            + " / "
            + VAL_ARCHIVE
            + " ("
            + ILSVRC_ARCHIVES.cliName
            + "); found "
            + (names.isEmpty() ? "nothing" : summary(names))
            + ". Name the layout with --layout if it is one of these.");
  }

  private static String summary(List<String> names) {
    int shown = Math.min(10, names.size());
    String list = String.join(", ", names.subList(0, shown));
    return names.size() > shown
        ? "[" + list + ", ... " + (names.size() - shown) + " more]"
        : "[" + list + "]";
  }

  @Override
  public String toString() {
    return cliName;
  }
}
