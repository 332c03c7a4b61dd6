package org.dtmspark.core.teacher;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import org.dtmspark.core.data.ImageNormalization;

/**
 * A teacher together with the manager it was loaded on: closing it closes both.
 *
 * @param delegate the teacher
 * @param manager the manager its weights live on, owned by this object
 */
public record ManagedTeacher(Teacher delegate, NDManager manager) implements Teacher {
  @Override
  public String id() {
    return delegate.id();
  }

  @Override
  public int imageSize() {
    return delegate.imageSize();
  }

  @Override
  public int numTokens() {
    return delegate.numTokens();
  }

  @Override
  public int dim() {
    return delegate.dim();
  }

  @Override
  public ImageNormalization normalization() {
    return delegate.normalization();
  }

  @Override
  public NDArray targets(NDArray pixels) {
    return delegate.targets(pixels);
  }

  @Override
  public void close() {
    delegate.close();
    manager.close();
  }
}
