package org.dtmspark.core.data;

/**
 * Chooses the view of an image once its size is known: a stored view (cached targets), a view drawn
 * by a {@link ViewSampler} from a generator seeded by the sample's position, or the whole image.
 * The loader reads an encoded image's size from its header, asks for the view, then decodes only
 * what the view needs; so the view must be a pure function of the size (seed any randomness
 * inside).
 */
@FunctionalInterface
public interface ViewChoice {
  /** The view of a {@code width x height} image; its crop box must lie inside the image. */
  ViewParams choose(int width, int height);

  /** Always {@code view}, whatever the size. */
  static ViewChoice of(ViewParams view) {
    if (view == null) {
      throw new IllegalArgumentException("View must be given, cannot be: null");
    }
    return (width, height) -> view;
  }

  /** The whole image, see {@link ViewParams#fullImage}. */
  static ViewChoice fullImage() {
    return ViewParams::fullImage;
  }
}
