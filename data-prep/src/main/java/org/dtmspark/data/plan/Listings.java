package org.dtmspark.data.plan;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/** File-system walking and the rules for files that are not read. */
final class Listings {
  /** Names of known non-image files, lower case. */
  private static final Set<String> NON_IMAGE_NAMES = Set.of("thumbs.db", "desktop.ini");

  /** Extensions of known non-image files, lower case, without the dot. */
  private static final Set<String> NON_IMAGE_EXTENSIONS =
      Set.of("txt", "csv", "tsv", "json", "xml", "md", "html", "yaml", "yml", "ini", "log");

  /** A file found by {@link #walk}: its status and its path components below the walked dir. */
  record Found(FileStatus status, List<String> relative) {
    String name() {
      return relative.get(relative.size() - 1);
    }
  }

  private Listings() {}

  /** The status of {@code path}, or {@code null} when it does not exist. */
  static FileStatus statusOrNull(FileSystem fs, Path path) throws IOException {
    try {
      return fs.getFileStatus(path);
    } catch (FileNotFoundException e) {
      return null;
    }
  }

  static boolean isDirectory(FileSystem fs, Path path) throws IOException {
    FileStatus status = statusOrNull(fs, path);
    return status != null && status.isDirectory();
  }

  static boolean isFile(FileSystem fs, Path path) throws IOException {
    FileStatus status = statusOrNull(fs, path);
    return status != null && status.isFile();
  }

  /** The entries of a directory, sorted by name. */
  static List<FileStatus> children(FileSystem fs, Path dir) throws IOException {
    List<FileStatus> list = new ArrayList<>(Arrays.asList(fs.listStatus(dir)));
    list.sort(Comparator.comparing(s -> s.getPath().getName()));
    return list;
  }

  /**
   * Every file below {@code dir}, at any depth, sorted by relative path.
   *
   * <p>Walks with {@code listStatus}, one call per directory. {@code FileSystem.listFiles} is not
   * used: its {@code LocatedFileStatus} reads every file's permissions, which the local filesystem
   * does by forking {@code ls} once per file when Hadoop's native library is absent (minutes for
   * ImageNet's 1.3 million files).
   */
  static List<Found> walk(FileSystem fs, Path dir) throws IOException {
    List<Found> files = new ArrayList<>();
    walk(fs, dir, List.of(), files);
    files.sort(Comparator.comparing(f -> String.join("/", f.relative())));
    return files;
  }

  private static void walk(FileSystem fs, Path dir, List<String> relative, List<Found> out)
      throws IOException {
    for (FileStatus status : fs.listStatus(dir)) {
      List<String> path = new ArrayList<>(relative);
      path.add(status.getPath().getName());
      if (status.isDirectory()) {
        walk(fs, status.getPath(), path, out);
      } else {
        out.add(new Found(status, List.copyOf(path)));
      }
    }
  }

  /** Whether a file or directory name is hidden: starts with '.', or is {@code __MACOSX}. */
  static boolean isHiddenName(String name) {
    return name.startsWith(".") || name.equals("__MACOSX");
  }

  /**
   * Why a file at these path components (directories, then the file name) is not read, or {@code
   * null} when it is a candidate image.
   */
  static String skipReason(List<String> components) {
    for (int i = 0; i < components.size() - 1; i++) {
      if (isHiddenName(components.get(i))) {
        return "in hidden directory " + components.get(i);
      }
    }
    String name = components.get(components.size() - 1);
    if (isHiddenName(name)) {
      return "hidden file";
    }
    String lower = name.toLowerCase(Locale.ROOT);
    if (NON_IMAGE_NAMES.contains(lower)) {
      return "known non-image file (" + name + ")";
    }
    int dot = lower.lastIndexOf('.');
    if (dot >= 0 && NON_IMAGE_EXTENSIONS.contains(lower.substring(dot + 1))) {
      return "known non-image file type (" + lower.substring(dot) + ")";
    }
    return null;
  }

  /** The file name without its last extension: {@code a/b/n01_1.JPEG} gives {@code n01_1}. */
  static String stem(String name) {
    String base = name.substring(name.lastIndexOf('/') + 1);
    int dot = base.lastIndexOf('.');
    return dot > 0 ? base.substring(0, dot) : base;
  }
}
