package org.dtmspark.jobs;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import javax.imageio.ImageIO;
import org.dtmspark.core.data.RgbImage;
import org.dtmspark.core.data.ViewParams;
import org.dtmspark.core.data.ViewRenderer;
import org.dtmspark.core.io.AtomicFiles;
import org.dtmspark.core.io.Npy;
import org.dtmspark.core.io.NpyArray;
import org.dtmspark.core.morph.BipartiteMorpher;
import org.dtmspark.core.morph.Distance;
import org.dtmspark.core.morph.DtmLoss;
import org.dtmspark.core.morph.DtmLossConfig;
import org.dtmspark.core.morph.MorphLevel;
import org.dtmspark.core.morph.MorphSchedule;
import org.dtmspark.core.morph.Morphing;
import org.dtmspark.core.teacher.Teacher;
import org.dtmspark.core.train.ModelCheckpoints;
import org.dtmspark.core.viz.ClusterOverlay;

/** The library behind {@code dtm morph}. */
public final class MorphInspector {
  private MorphInspector() {}

  /** Morphs {@code targets} with each level and scores {@code online} against them. */
  public static MorphReport inspect(
      Path targets, Path online, List<MorphLevel> levels, boolean protectFirst) throws IOException {
    NpyArray t = readTokens(targets);
    NpyArray u = readTokens(online);
    if (!Arrays.equals(t.shape(), u.shape())) {
      throw new IllegalArgumentException(
          "Online tokens "
              + online
              + " have shape "
              + Arrays.toString(u.shape())
              + " but the targets "
              + targets
              + " have shape "
              + Arrays.toString(t.shape()));
    }
    try (NDManager m = NDManager.newBaseManager()) {
      Shape shape = new Shape(t.shape());
      NDArray tv = m.create(t.data(), shape);
      NDArray uv = m.create(u.data(), shape);
      List<MorphReport.Level> out = new ArrayList<>();
      for (MorphLevel level : levels) {
        try (Morphing morphing = BipartiteMorpher.morph(tv, level, protectFirst)) {
          out.add(new MorphReport.Level(level.r(), level.k(), morphing.clusters()));
        }
      }
      DtmLoss loss = new DtmLoss(new DtmLossConfig(Distance.COSINE, 2.0, false, protectFirst));
      double value = loss.compute(uv, tv, new MorphSchedule(levels)).getFloat();
      return new MorphReport(out, value);
    }
  }

  private static NpyArray readTokens(Path file) throws IOException {
    if (!Files.isRegularFile(file)) {
      throw new NoSuchFileException(file.toString(), null, "token array not found");
    }
    NpyArray a = Npy.read(file);
    if (a.shape().length != 3) {
      throw new IllegalArgumentException(
          file + ": token arrays must be [B, N, D], got shape " + Arrays.toString(a.shape()));
    }
    return a;
  }

  /**
   * Draws the clusters that {@code level} forms on the checkpoint's tokens of {@code image}.
   *
   * @return the number of clusters drawn
   */
  public static int draw(
      Path image, Path checkpoint, MorphLevel level, boolean protectFirst, Path png)
      throws IOException {
    if (!Files.isRegularFile(image)) {
      throw new NoSuchFileException(image.toString(), null, "image not found");
    }
    RgbImage source = RgbImage.decode(Files.readAllBytes(image), image.toString());
    try (Teacher teacher = ModelCheckpoints.loadTeacher(checkpoint, "teacher", true);
        NDManager m = NDManager.newBaseManager()) {
      int size = teacher.imageSize();
      float[] pixels =
          ViewRenderer.render(source, ViewParams.fullImage(source.width(), source.height()), size);
      NDArray tokens = teacher.targets(m.create(pixels, new Shape(1, 3, size, size)));
      int grid = (int) Math.round(Math.sqrt(teacher.numTokens()));
      try (Morphing morphing = BipartiteMorpher.morph(tokens, level, protectFirst)) {
        List<List<Integer>> clusters = morphing.clusters().get(0);
        BufferedImage view = new RgbImage(size, size, pixels).toBufferedImage();
        BufferedImage drawn = ClusterOverlay.draw(view, grid, grid, clusters, 0.45f);
        AtomicFiles.writeAtomically(
            png,
            out -> {
              if (!ImageIO.write(drawn, "png", out)) {
                throw new IOException("No PNG writer available");
              }
            });
        return clusters.size();
      }
    }
  }
}
