package dev.scoreline.core.model;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;

/** Size and modification time of a file: how a reload tells that a model file was replaced. */
record FileStamp(long size, long modifiedMillis) {
  static FileStamp of(Path file) {
    try {
      BasicFileAttributes a = Files.readAttributes(file, BasicFileAttributes.class);
      return new FileStamp(a.size(), a.lastModifiedTime().toMillis());
    } catch (IOException e) {
      return new FileStamp(-1, -1);
    }
  }
}
