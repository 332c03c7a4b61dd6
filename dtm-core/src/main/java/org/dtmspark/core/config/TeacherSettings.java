package org.dtmspark.core.config;

import java.util.List;

/** The {@code pretrain.teacher} section. */
public record TeacherSettings(String checkpoint, String normalization, boolean useTokenHead) {
  static TeacherSettings from(SettingsReader r) {
    return new TeacherSettings(
        r.string("checkpoint"),
        r.oneOf("normalization", List.of("teacher", "imagenet")),
        r.bool("use-token-head"));
  }
}
