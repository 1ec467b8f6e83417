/* source.c - reads .sqn files into memory, refusing binary garbage and huge files. */
#include "source.h"
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#define SQN_MAX_SOURCE (16 << 20)

SourceFile *source_from_memory(Arena *a, const char *name, const char *text, size_t len) {
  SourceFile *f = ARENA_NEW(a, SourceFile);
  f->path = arena_strdup(a, name);
  char *t = arena_alloc(a, len + 1);
  memcpy(t, text, len);
  /* NUL bytes would cut lines short in diagnostics; the lexer reports them as bad bytes instead */
  for (size_t i = 0; i < len; i++)
    if (!t[i]) t[i] = '\x01';
  f->text = t;
  f->len = len;
  return f;
}

SourceFile *source_load(Arena *a, const char *path, const char **err) {
  struct stat st;
  if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
    *err = S_ISDIR(st.st_mode) ? "it is a folder, not a file" : "it is not a regular file";
    return NULL;
  }
  FILE *fp = fopen(path, "rb");
  if (!fp) {
    *err = errno == ENOENT ? "no such file" : strerror(errno);
    return NULL;
  }
  char *buf = NULL;
  size_t len = 0;
  if (fseek(fp, 0, SEEK_END) == 0) {
    long n = ftell(fp);
    if (n < 0 || n > SQN_MAX_SOURCE) {
      fclose(fp);
      *err = n < 0 ? "cannot read it (is it a directory?)" : "file is larger than 16 MiB";
      return NULL;
    }
    rewind(fp);
    buf = arena_alloc(a, (size_t)n + 1);
    len = fread(buf, 1, (size_t)n, fp);
    if (ferror(fp) || len != (size_t)n) {
      fclose(fp);
      *err = "read error (is it a directory?)";
      return NULL;
    }
  } else {
    fclose(fp);
    *err = "cannot seek in it (is it a regular file?)";
    return NULL;
  }
  fclose(fp);
  return source_from_memory(a, path, buf, len);
}
