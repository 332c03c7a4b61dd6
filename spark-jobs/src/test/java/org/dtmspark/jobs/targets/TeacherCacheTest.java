package org.dtmspark.jobs.targets;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.hadoop.conf.Configuration;
import org.dtmspark.core.teacher.Teacher;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TeacherCacheTest {
  @TempDir Path dir;

  private Path teacherCopy() throws IOException {
    Path copy = Files.createDirectory(dir.resolve("clip"));
    for (String f : new String[] {"config.json", "model.safetensors", "preprocessor_config.json"}) {
      Files.copy(TargetsJobTest.CLIP.resolve(f), copy.resolve(f));
    }
    return copy;
  }

  @Test
  void equalSpecsShareOneLoadedTeacher() throws IOException {
    Path clip = teacherCopy();
    Configuration conf = new Configuration();
    int before = TeacherCache.loads();
    Teacher a = TeacherCache.get(TeacherSpec.onCpu(clip.toString(), "teacher", true, 32, 8), conf);
    Teacher b = TeacherCache.get(TeacherSpec.onCpu(clip.toString(), "teacher", true, 32, 8), conf);
    Teacher imagenet =
        TeacherCache.get(TeacherSpec.onCpu(clip.toString(), "imagenet", true, 32, 8), conf);
    assertThat(b).isSameAs(a);
    assertThat(imagenet).isNotSameAs(a);
    assertThat(TeacherCache.loads() - before).isEqualTo(2);
  }

  @Test
  void plainPathsAndFileUrisAreUsedWhereTheyAre() throws IOException {
    Configuration conf = new Configuration();
    Path clip = teacherCopy();
    assertThat(TeacherCache.localPath(clip.toString(), conf)).isEqualTo(clip);
    assertThat(TeacherCache.localPath(clip.toUri().toString(), conf)).isEqualTo(clip);
  }

  @Test
  void hadoopLocationsAreCopiedToALocalDirectoryWithTheSameFiles() throws IOException {
    Path clip = teacherCopy();
    Path copy = TeacherCache.copyToLocal(clip.toUri(), new Configuration());
    assertThat(copy.getFileName().toString()).isEqualTo("clip");
    assertThat(copy).isNotEqualTo(clip);
    for (String f : new String[] {"config.json", "model.safetensors", "preprocessor_config.json"}) {
      assertThat(Files.readAllBytes(copy.resolve(f)))
          .isEqualTo(Files.readAllBytes(clip.resolve(f)));
    }
    assertThat(TeacherCache.weightsSha256(copy)).isEqualTo(TeacherCache.weightsSha256(clip));
  }

  @Test
  void weightsHashIsTheHashOfTheWeightsFile() throws IOException {
    Path clip = teacherCopy();
    // sha256sum of the committed golden model.safetensors differs from a file with other bytes.
    String hash = TeacherCache.weightsSha256(clip);
    assertThat(hash).matches("[0-9a-f]{64}");
    assertThat(TeacherCache.weightsSha256(clip.resolve("model.safetensors"))).isEqualTo(hash);
    Files.write(clip.resolve("model.safetensors"), new byte[] {1});
    assertThat(TeacherCache.weightsSha256(clip)).isNotEqualTo(hash);
  }
}
