package org.dtmspark.data.plan;

import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.apache.hadoop.fs.Path;

/**
 * Optional settings of {@link InputScanner#scan}.
 *
 * @param splits the splits to read, e.g. {@code [train, val]}; empty reads every split the layout
 *     has (the Kaggle layout's unlabelled {@code test} split is never read)
 * @param synsetFile a synset file ({@link SynsetList#read}) whose sorted wnids define the labels;
 *     {@code null} derives the list from the input (see {@link InputScanner})
 * @param valLabels the label file of a flat val split ({@link ValLabels#read}); {@code null} looks
 *     for {@code LOC_val_solution.csv} (or {@code val_labels.txt} beside the ILSVRC2012 archives).
 *     Only the Kaggle and archive layouts have flat val splits.
 */
public record ScanOptions(List<String> splits, Path synsetFile, Path valLabels) {

  /** Validates the split names. */
  public ScanOptions {
    splits = List.copyOf(splits);
    Set<String> seen = new HashSet<>();
    for (String split : splits) {
      if (split.isBlank() || split.contains("/") || Listings.isHiddenName(split)) {
        throw new IllegalArgumentException(
            "Split name must be non-blank, without '/', not hidden, cannot be: '" + split + "'");
      }
      if (!seen.add(split)) {
        throw new IllegalArgumentException("Split names must be distinct, cannot repeat: " + split);
      }
    }
  }

  /** Every split, labels from the input, label files found where the layout keeps them. */
  public static ScanOptions defaults() {
    return new ScanOptions(List.of(), null, null);
  }

  /** These options reading only {@code splits}. */
  public ScanOptions withSplits(String... splits) {
    return new ScanOptions(List.of(splits), synsetFile, valLabels);
  }

  /** These options with the labels of {@code file}. */
  public ScanOptions withSynsetFile(Path file) {
    return new ScanOptions(splits, file, valLabels);
  }

  /** These options with the flat val split labelled by {@code file}. */
  public ScanOptions withValLabels(Path file) {
    return new ScanOptions(splits, synsetFile, file);
  }
}
