package org.dtmspark.core.data;

/**
 * An encoded image could not be decoded. The message names the source (file path, archive entry,
 * row key) and the reason, so data preparation can record the input as a reject.
 */
public final class ImageDecodeException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /**
   * Creates the exception.
   *
   * @param message names the source and the reason
   * @param cause the underlying failure, or {@code null}
   */
  public ImageDecodeException(String message, Throwable cause) {
    super(message, cause);
  }
}
