/* atomic_file.c - temporary file + fsync + rename (atomic_file.h). The temporary is created with
   O_EXCL under a name unique to the process and call, so concurrent writers never share one. */
#include "atomic_file.h"
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "fault.h"

static void fail(const AtomicFile *a, int e, char *err, size_t n) {
  if (err && n) snprintf(err, n, "cannot write %s: %s", a->path, strerror(e ? e : EIO));
}

static void release(AtomicFile *a) {
  free(a->path);
  free(a->tmp);
  a->path = a->tmp = NULL;
  a->f = NULL;
}

bool atomic_open(AtomicFile *a, const char *path, char *err, size_t n) {
  static unsigned counter;
  memset(a, 0, sizeof *a);
  size_t len = strlen(path) + 48;
  a->path = strdup(path);
  a->tmp = malloc(len);
  if (!a->path || !a->tmp) {
    if (err && n) snprintf(err, n, "cannot write %s: out of memory", path);
    return release(a), false;
  }
  int fd = -1;
  for (int tries = 0; fd < 0 && tries < 100; tries++) {
    snprintf(a->tmp, len, "%s.tmp.%ld.%u", path, (long)getpid(), __atomic_add_fetch(&counter, 1, __ATOMIC_RELAXED));
    fd = open(a->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd < 0 && errno != EEXIST) break;
  }
  if (fd < 0) return fail(a, errno, err, n), release(a), false;
  if (!(a->f = fdopen(fd, "wb"))) {
    int e = errno;
    close(fd), unlink(a->tmp);
    return fail(a, e, err, n), release(a), false;
  }
  return true;
}

/* Best effort: makes the rename itself durable (some file systems refuse to sync a folder). */
static void sync_folder(const char *path) {
  const char *slash = strrchr(path, '/');
  char *dir = slash ? strndup(path, slash == path ? 1 : (size_t)(slash - path)) : strdup(".");
  int fd = dir ? open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
  if (fd >= 0) fsync(fd), close(fd);
  free(dir);
}

bool atomic_close(AtomicFile *a, bool ok, char *err, size_t n) {
  int e = ok ? 0 : errno;
  if (ok && (fflush(a->f) != 0 || ferror(a->f) || fsync(fileno(a->f)) != 0)) ok = false, e = errno;
  if (fclose(a->f) != 0 && ok) ok = false, e = errno;
  fault_point("atomic-rename"); /* crash tests: killed with the temporary complete, before the rename */
  if (ok && rename(a->tmp, a->path) != 0) ok = false, e = errno;
  if (ok) sync_folder(a->path);
  else unlink(a->tmp), fail(a, e, err, n);
  release(a);
  return ok;
}

bool atomic_write(const char *path, const void *data, size_t len, char *err, size_t n) {
  AtomicFile a;
  if (!atomic_open(&a, path, err, n)) return false;
  return atomic_close(&a, !len || fwrite(data, 1, len, a.f) == len, err, n);
}

bool atomic_is_temporary(const char *name) { return strstr(name, ".tmp.") != NULL; }
