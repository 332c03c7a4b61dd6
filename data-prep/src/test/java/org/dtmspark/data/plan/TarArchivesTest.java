package org.dtmspark.data.plan;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class TarArchivesTest {
  @Test
  void locationsNestAndSplitBack() {
    String location = TarArchives.location("s3a://b/in/train.tar", "n01.tar", "d/n01_1.JPEG");

    assertThat(location).isEqualTo("s3a://b/in/train.tar!/n01.tar!/d/n01_1.JPEG");
    assertThat(TarArchives.parts(location))
        .containsExactly("s3a://b/in/train.tar", "n01.tar", "d/n01_1.JPEG");
    assertThat(TarArchives.parts("file:/x/a.JPEG")).containsExactly("file:/x/a.JPEG");
  }

  @Test
  void sourceImagesAreValidatedAndPlainFilesHaveNoOffset() {
    SourceImage plain = new SourceImage("train", null, "k", "file:/k.JPEG", 5);

    assertThat(plain.offset()).isEqualTo(-1);
    assertThat(plain.inArchive()).isFalse();
    assertThatThrownBy(() -> new SourceImage("train", "n01", "k", "file:/k.JPEG", -2))
        .hasMessage("Image size in bytes must be at least 0, cannot be: -2 (file:/k.JPEG)");
    assertThatThrownBy(() -> new SourceImage("a/b", "n01", "k", "file:/k.JPEG", 1))
        .hasMessage("Split must not contain '/', cannot be: a/b");
    assertThatThrownBy(() -> new SourceImage("val", "n01", " ", "file:/k.JPEG", 1))
        .hasMessage("Image key must be non-blank and on one line, cannot be:  ");
    assertThatThrownBy(() -> new SourceImage("val", "n01", "k", "t.tar!/k.JPEG", 1, -5))
        .hasMessageStartingWith(
            "Image offset must be -1 (plain file) or at least 0, cannot be: -5");
  }
}
