package org.dtmspark.data.plan;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.Serializable;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.dtmspark.data.shard.Manifest;

/**
 * The classes of a dataset: a sorted list of wnids, whose 0-based index is the label (SPEC section
 * 4), and the SHA-256 that identifies the list in manifests.
 *
 * <p>The hash is the manifest's ({@link org.dtmspark.data.shard.Manifest#synsetsSha256}): the
 * lower-case hex SHA-256 of the UTF-8 bytes of every wnid followed by {@code \n}.
 *
 * @param wnids the class names, sorted in {@link String#compareTo} order, no duplicates
 * @param sha256 the hash described above
 */
public record SynsetList(List<String> wnids, String sha256) implements Serializable {

  /** Validates that the list is sorted, unique, and that the hash matches it. */
  public SynsetList {
    wnids = List.copyOf(wnids);
    for (int i = 0; i < wnids.size(); i++) {
      String wnid = wnids.get(i);
      if (wnid.isBlank() || wnid.indexOf('\n') >= 0) {
        throw new IllegalArgumentException(
            "Wnid must be non-blank and on one line, cannot be: '" + wnid + "'");
      }
      if (i > 0 && wnids.get(i - 1).compareTo(wnid) >= 0) {
        throw new IllegalArgumentException(
            "Wnids must be sorted and unique, cannot have "
                + wnids.get(i - 1)
                + " before "
                + wnid
                + " at index "
                + i);
      }
    }
    String expected = hash(wnids);
    if (!expected.equals(sha256)) {
      throw new IllegalArgumentException(
          "Synset list hash must be the SHA-256 of its wnids ("
              + expected
              + "), cannot be: "
              + sha256);
    }
  }

  /** The list of the distinct {@code wnids}, sorted. */
  public static SynsetList fromWnids(Collection<String> wnids) {
    List<String> sorted = new ArrayList<>(new TreeSet<>(wnids));
    return new SynsetList(sorted, hash(sorted));
  }

  /**
   * Reads a synset file: one wnid per line, optionally followed by whitespace and a description
   * ({@code n01440764 tench, Tinca tinca}, as in {@code LOC_synset_mapping.txt} or {@code
   * synsets.txt}); blank lines are ignored. Labels index the sorted list whatever the file's order.
   *
   * @throws IllegalArgumentException naming the file and line of a repeated wnid, or when the file
   *     lists none
   */
  public static SynsetList read(FileSystem fs, Path file) throws IOException {
    List<String> wnids = new ArrayList<>();
    Map<String, Integer> firstLine = new HashMap<>();
    try (BufferedReader reader =
        new BufferedReader(new InputStreamReader(fs.open(file), StandardCharsets.UTF_8))) {
      String line;
      int number = 0;
      while ((line = reader.readLine()) != null) {
        number++;
        String text = number == 1 ? stripBom(line).strip() : line.strip();
        if (text.isEmpty()) {
          continue;
        }
        String wnid = text.split("\\s+", 2)[0];
        Integer previous = firstLine.putIfAbsent(wnid, number);
        if (previous != null) {
          throw new IllegalArgumentException(
              "Synset file "
                  + file
                  + " repeats wnid "
                  + wnid
                  + " on line "
                  + number
                  + " (first on line "
                  + previous
                  + "); each wnid must appear once");
        }
        wnids.add(wnid);
      }
    }
    if (wnids.isEmpty()) {
      throw new IllegalArgumentException(
          "Synset file " + file + " lists no wnids; expected one wnid per line");
    }
    return fromWnids(wnids);
  }

  /** The label of {@code wnid}: its 0-based index, or {@code -1} when unknown or {@code null}. */
  public int labelOf(String wnid) {
    if (wnid == null) {
      return -1;
    }
    int index = Collections.binarySearch(wnids, wnid);
    return index >= 0 ? index : -1;
  }

  /** The number of classes. */
  public int size() {
    return wnids.size();
  }

  /** Whether {@code wnid} is in the list. */
  public boolean contains(String wnid) {
    return labelOf(wnid) >= 0;
  }

  static String stripBom(String line) {
    return line.startsWith("\uFEFF") ? line.substring(1) : line;
  }

  private static String hash(List<String> sorted) {
    return Manifest.synsetsSha256(sorted);
  }
}
