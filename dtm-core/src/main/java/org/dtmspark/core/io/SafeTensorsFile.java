package org.dtmspark.core.io;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * The content of a safetensors file.
 *
 * @param metadata the {@code __metadata__} string map (empty when the file has none), read-only
 * @param tensors the tensors by name, in header order
 */
public record SafeTensorsFile(
    Map<String, String> metadata, LinkedHashMap<String, TensorData> tensors) {

  public SafeTensorsFile {
    metadata = Collections.unmodifiableMap(new LinkedHashMap<>(Objects.requireNonNull(metadata)));
    tensors = new LinkedHashMap<>(Objects.requireNonNull(tensors));
  }

  /** The tensor called {@code name}; fails naming it and the names present when absent. */
  public TensorData tensor(String name) {
    TensorData t = tensors.get(name);
    if (t == null) {
      throw new IllegalArgumentException(
          "No tensor named " + name + "; present: " + tensors.keySet());
    }
    return t;
  }
}
