/* atomic_file.h - writing a file so that it appears whole or not at all: the bytes go to a temporary
   file in the same folder, which is flushed, synced and renamed over the destination on success and
   removed on failure. A crash, a kill or a full disk leaves the previous file as it was. */
#ifndef SQN_ATOMIC_FILE_H
#define SQN_ATOMIC_FILE_H
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

typedef struct AtomicFile {
  FILE *f;       /* write here */
  char *path;    /* the destination */
  char *tmp;     /* PATH.tmp.PID.N */
} AtomicFile;

/* Creates the temporary file (mode 0666 less the umask); false with err "cannot write PATH: why". */
bool atomic_open(AtomicFile *a, const char *path, char *err, size_t n);
/* ok: what the caller wrote succeeded. Flushes, syncs and closes the temporary, renames it to the
   destination and syncs the folder. On any failure (or !ok) the temporary is removed, the destination
   is untouched, and err says "cannot write PATH: why" (the caller's errno when !ok). */
bool atomic_close(AtomicFile *a, bool ok, char *err, size_t n);
/* The whole file from one buffer. */
bool atomic_write(const char *path, const void *data, size_t len, char *err, size_t n);
/* True for names atomic_open gives its temporaries (NAME.tmp.*), which a crash may leave behind. */
bool atomic_is_temporary(const char *name);
#endif
