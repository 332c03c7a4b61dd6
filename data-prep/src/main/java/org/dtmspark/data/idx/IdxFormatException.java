package org.dtmspark.data.idx;

import java.io.IOException;

/** An idx file is malformed. The message names the file and what is wrong. */
public final class IdxFormatException extends IOException {
  private static final long serialVersionUID = 1L;

  /**
   * Creates the exception.
   *
   * @param message names the file and what is wrong
   */
  public IdxFormatException(String message) {
    super(message);
  }
}
