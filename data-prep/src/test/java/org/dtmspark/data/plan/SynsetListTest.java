package org.dtmspark.data.plan;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SynsetListTest {
  @TempDir Path dir;

  @Test
  void readsOneWnidPerLineWithDescriptionsSortedAndIgnoresBlankLines() throws IOException {
    Path file =
        InputTrees.write(
            dir,
            "LOC_synset_mapping.txt",
            "\uFEFFn02 goldfish, Carassius auratus\n\n   \nn01440764 tench, Tinca tinca\n");

    SynsetList synsets = SynsetList.read(InputTrees.localFs(), InputTrees.hadoop(file));

    assertThat(synsets.wnids()).containsExactly("n01440764", "n02");
    assertThat(synsets.labelOf("n01440764")).isZero();
    assertThat(synsets.labelOf("n02")).isEqualTo(1);
    assertThat(synsets.labelOf("n03")).isEqualTo(-1);
    assertThat(synsets.labelOf(null)).isEqualTo(-1);
    // printf 'n01440764\nn02\n' | sha256sum (the manifest's definition)
    assertThat(synsets.sha256())
        .isEqualTo("c2adc23fc8522774d7f6872d0cdac885e18068508bbd544d4a940f12f74fd849");
  }

  @Test
  void repeatedWnidIsAnErrorNamingBothLines() throws IOException {
    Path file = InputTrees.write(dir, "synsets.txt", "n01 a\nn02 b\n\nn01 again\n");

    assertThatThrownBy(() -> SynsetList.read(InputTrees.localFs(), InputTrees.hadoop(file)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("synsets.txt")
        .hasMessageContaining("repeats wnid n01 on line 4 (first on line 1)");
  }

  @Test
  void fileWithoutWnidsIsAnError() throws IOException {
    Path file = InputTrees.write(dir, "empty.txt", "\n  \n");

    assertThatThrownBy(() -> SynsetList.read(InputTrees.localFs(), InputTrees.hadoop(file)))
        .hasMessageContaining("empty.txt lists no wnids");
  }

  @Test
  void fromWnidsSortsAndDeduplicates() {
    SynsetList synsets = SynsetList.fromWnids(List.of("c", "a", "b", "a"));

    assertThat(synsets.wnids()).containsExactly("a", "b", "c");
    assertThat(synsets.size()).isEqualTo(3);
    assertThat(synsets.sha256())
        .isEqualTo("880553fca8fcea94e325ee2cfb48e5a985cc797f39a14cc6d3cedecfeb2ae4d2");
    assertThat(SynsetList.fromWnids(List.of()).sha256())
        .isEqualTo("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  }

  @Test
  void constructorRejectsUnsortedListsAndWrongHashes() {
    String hash = SynsetList.fromWnids(List.of("a", "b")).sha256();

    assertThatThrownBy(() -> new SynsetList(List.of("b", "a"), hash))
        .hasMessage("Wnids must be sorted and unique, cannot have b before a at index 1");
    assertThatThrownBy(() -> new SynsetList(List.of("a", "b"), "00"))
        .hasMessageContaining("cannot be: 00");
    assertThat(new SynsetList(List.of("a", "b"), hash).wnids()).containsExactly("a", "b");
  }
}
