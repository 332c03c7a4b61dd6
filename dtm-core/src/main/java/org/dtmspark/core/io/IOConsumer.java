package org.dtmspark.core.io;

import java.io.IOException;

/**
 * A consumer that may throw {@link IOException}, e.g. a writer of a file's content.
 *
 * @param <T> the consumed type
 */
@FunctionalInterface
public interface IOConsumer<T> {
  /** Consumes {@code value}. */
  void accept(T value) throws IOException;
}
