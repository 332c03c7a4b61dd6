package org.dtmspark.data.idx;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Class names for the labels of an idx file: the name of idx label {@code i} is {@code names[i]}.
 *
 * <p>Names become the {@code wnid} of image rows and the synset list of the manifest, so they are
 * identifiers: letters, digits, {@code .}, {@code _} and {@code -}, starting with a letter or
 * digit, and distinct.
 */
public final class IdxClassNames {
  /** The name of the Fashion-MNIST preset in {@link #parse}. */
  public static final String FASHION_MNIST_PRESET = "fashion-mnist";

  /**
   * The ten Fashion-MNIST classes in idx label order (0 = T-shirt/top, ..., 9 = Ankle boot),
   * written as identifiers.
   */
  public static final List<String> FASHION_MNIST =
      List.of(
          "tshirt_top",
          "trouser",
          "pullover",
          "dress",
          "coat",
          "sandal",
          "shirt",
          "sneaker",
          "bag",
          "ankle_boot");

  /** One line for command-line help. */
  public static final String HELP =
      FASHION_MNIST_PRESET + " (the 10 real names) or a comma-separated list NAME0,NAME1,...";

  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]*");

  private IdxClassNames() {}

  /**
   * Parses the command-line form: {@value #FASHION_MNIST_PRESET} (case-insensitive) or a
   * comma-separated list of names in idx label order.
   *
   * @throws IllegalArgumentException naming the bad name and the rule
   */
  public static List<String> parse(String text) {
    if (text == null || text.isBlank()) {
      throw new IllegalArgumentException(
          "Class names must be " + HELP + ", cannot be: " + (text == null ? "null" : "''"));
    }
    if (text.trim().toLowerCase(Locale.ROOT).equals(FASHION_MNIST_PRESET)) {
      return FASHION_MNIST;
    }
    List<String> names = new ArrayList<>();
    for (String part : text.split(",", -1)) {
      names.add(part.trim());
    }
    return validate(names);
  }

  /**
   * Checks {@code names}: at least one, each an identifier, all distinct.
   *
   * @return an immutable copy
   * @throws IllegalArgumentException naming the bad name and the rule
   */
  public static List<String> validate(List<String> names) {
    if (names == null || names.isEmpty()) {
      throw new IllegalArgumentException(
          "Class names must list at least one name, cannot be: " + names);
    }
    Set<String> seen = new HashSet<>();
    for (int i = 0; i < names.size(); i++) {
      String name = names.get(i);
      if (name == null || !NAME.matcher(name).matches()) {
        throw new IllegalArgumentException(
            "Class name "
                + i
                + " must be letters, digits, '.', '_' or '-', starting with a letter or digit,"
                + " cannot be: "
                + (name == null ? "null" : "'" + name + "'"));
      }
      if (!seen.add(name)) {
        throw new IllegalArgumentException(
            "Class names must be distinct, cannot repeat: '" + name + "' (name " + i + ")");
      }
    }
    return List.copyOf(names);
  }

  /**
   * The synthetic names of {@code count} classes: {@code class_0} ... {@code class_9}, with the
   * number zero-padded to the width of the largest ({@code class_00} ... {@code class_46} for 47
   * classes) so that their sorted order is the idx label order.
   */
  public static List<String> synthetic(int count) {
    if (count < 1) {
      throw new IllegalArgumentException(
          "Number of classes must be at least 1, cannot be: " + count);
    }
    int width = Integer.toString(count - 1).length();
    List<String> names = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      names.add(String.format(Locale.ROOT, "class_%0" + width + "d", i));
    }
    return List.copyOf(names);
  }
}
