package org.dtmspark.data.plan;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.Collection;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeSet;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/**
 * The labels of a flat (unlabelled by directory) val split: image key to wnid.
 *
 * <p>Two file forms are read, told apart by the first non-blank line:
 *
 * <ul>
 *   <li>Kaggle's {@code LOC_val_solution.csv}: a header starting with {@code ImageId}, then rows
 *       {@code ImageId,PredictionString}; the label is the first token of PredictionString (the
 *       rest are boxes and further wnids), e.g. {@code ILSVRC2012_val_00008726,n02119789 255 142
 *       454 329 n02119789 44 21 322 295};
 *   <li>a plain mapping, one image per line: {@code ILSVRC2012_val_00000001.JPEG n01751748}.
 * </ul>
 *
 * <p>Image names are reduced to their stem, so {@code ILSVRC2012_val_00000001} and {@code
 * ILSVRC2012_val_00000001.JPEG} are the same key. Blank lines are ignored; a malformed or repeated
 * row is an error naming the file and the line.
 *
 * @param wnidByKey image key (file stem) to wnid
 * @param source the file the labels came from, for messages
 */
public record ValLabels(Map<String, String> wnidByKey, String source) {

  /** Copies the map. */
  public ValLabels {
    wnidByKey = Map.copyOf(wnidByKey);
  }

  /** The wnid of the image with this key, or {@code null} when the file has no row for it. */
  public String wnidOf(String key) {
    return wnidByKey.get(key);
  }

  /** The distinct wnids named, sorted. */
  public Collection<String> wnids() {
    return new TreeSet<>(wnidByKey.values());
  }

  /** Reads a label file in either form described above. */
  public static ValLabels read(FileSystem fs, Path file) throws IOException {
    Map<String, String> labels = new HashMap<>();
    Map<String, Integer> lineOf = new HashMap<>();
    try (BufferedReader reader =
        new BufferedReader(new InputStreamReader(fs.open(file), StandardCharsets.UTF_8))) {
      String line;
      int number = 0;
      Boolean csv = null;
      while ((line = reader.readLine()) != null) {
        number++;
        String text = number == 1 ? SynsetList.stripBom(line).strip() : line.strip();
        if (text.isEmpty()) {
          continue;
        }
        if (csv == null) {
          csv = text.startsWith("ImageId");
          if (csv) {
            continue;
          }
        }
        String[] row = csv ? csvRow(text, file, number) : plainRow(text, file, number);
        String key = Listings.stem(row[0]);
        Integer previous = lineOf.putIfAbsent(key, number);
        if (previous != null) {
          throw new IllegalArgumentException(
              "Label file "
                  + file
                  + " line "
                  + number
                  + " repeats image "
                  + key
                  + " (first on line "
                  + previous
                  + "); each image must have one row");
        }
        labels.put(key, row[1]);
      }
    }
    return new ValLabels(labels, fs.makeQualified(file).toString());
  }

  private static String[] csvRow(String text, Path file, int number) {
    int comma = text.indexOf(',');
    String image = comma < 0 ? "" : unquote(text.substring(0, comma));
    String predictions = comma < 0 ? "" : unquote(text.substring(comma + 1));
    if (image.isEmpty() || predictions.isEmpty()) {
      throw malformed(file, number, text, "ImageId,PredictionString with a wnid first");
    }
    return new String[] {image, predictions.split("\\s+", 2)[0]};
  }

  private static String[] plainRow(String text, Path file, int number) {
    String[] tokens = text.split("\\s+");
    if (tokens.length != 2) {
      throw malformed(
          file, number, text, "'<image> <wnid>', e.g. ILSVRC2012_val_00000001.JPEG n01751748");
    }
    return tokens;
  }

  private static String unquote(String field) {
    String s = field.strip();
    if (s.length() >= 2 && s.startsWith("\"") && s.endsWith("\"")) {
      s = s.substring(1, s.length() - 1).strip();
    }
    return s;
  }

  private static IllegalArgumentException malformed(
      Path file, int number, String text, String expected) {
    return new IllegalArgumentException(
        "Label file " + file + " line " + number + " must be " + expected + ", cannot be: " + text);
  }
}
