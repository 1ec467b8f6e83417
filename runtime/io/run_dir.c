/* run_dir.c - locked run folders and their logs (run_dir.h). The lock is flock(2) on a file in the
   folder: the kernel releases it when the process ends, however it ends, so a killed run never
   leaves a stale lock. */
#include "run_dir.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include "atomic_file.h"

#define LOCK_NAME ".sqnrun.lock"

/* The process id written in a lock file held by another process, or 0. */
static long holder_pid(int fd) {
  char buf[32] = "";
  ssize_t k = pread(fd, buf, sizeof buf - 1, 0);
  return k > 0 ? atol(buf) : 0;
}

static void remove_temporaries(const char *dir) {
  DIR *dp = opendir(dir);
  if (!dp) return;
  char path[2048];
  for (struct dirent *e; (e = readdir(dp));)
    if (atomic_is_temporary(e->d_name)) snprintf(path, sizeof path, "%s/%s", dir, e->d_name), unlink(path);
  closedir(dp);
}

/* The files a training run or a search writes in its folder. */
static const char *const run_files[] = {
    "log.jsonl", "last.safetensors", "last.safetensors.json", "best.safetensors", "best.safetensors.json",
    "derived.sqn", "pareto.csv", "pareto.json", "pareto.svg", "arch.svg", "report.html"};
enum { NRUN_FILES = sizeof run_files / sizeof run_files[0] };

/* Whether dir/name is a regular file (a folder of that name is not a run file). */
static bool is_file_in(const char *dir, const char *name) {
  char path[2048];
  struct stat st;
  snprintf(path, sizeof path, "%s/%s", dir, name);
  return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* "log.jsonl, last.safetensors" of the run files in dir (empty: none). */
static void run_files_in(const char *dir, char *list, size_t n) {
  size_t k = 0;
  list[0] = 0;
  for (int i = 0; i < NRUN_FILES && k < n; i++)
    if (is_file_in(dir, run_files[i])) k += (size_t)snprintf(list + k, n - k, "%s%s", k ? ", " : "", run_files[i]);
}

/* Under the lock: refuse (new), keep (resume) or clear (overwrite) a run already in the folder. */
static bool claim_folder(const char *dir, RunDirUse use, char *err, size_t n) {
  char found[512], path[2048];
  run_files_in(dir, found, sizeof found);
  if (!found[0] || use == RUN_DIR_RESUME) return true;
  if (use == RUN_DIR_NEW && !is_file_in(dir, "last.safetensors"))
    return snprintf(err, n, "the run folder %s already holds a run (%s) that saved no checkpoint: replace it with "
                            "--overwrite, or give this run another --out", dir, found), false;
  if (use == RUN_DIR_NEW)
    return snprintf(err, n, "the run folder %s already holds a run (%s): continue it with --resume, replace it with "
                            "--overwrite, or give this run another --out", dir, found), false;
  for (int i = 0; i < NRUN_FILES; i++) {
    if (!is_file_in(dir, run_files[i])) continue;
    snprintf(path, sizeof path, "%s/%s", dir, run_files[i]);
    if (unlink(path) != 0 && errno != ENOENT)
      return snprintf(err, n, "--overwrite: cannot remove %s: %s", path, strerror(errno)), false;
  }
  return true;
}

bool run_dir_open(RunDir *d, const char *path, RunDirUse use, char *err, size_t n) {
  memset(d, 0, sizeof *d);
  d->lock_fd = -1;
  if (snprintf(d->path, sizeof d->path, "%s", path) >= (int)sizeof d->path)
    return snprintf(err, n, "the run folder path is too long: %.200s...", path), false;
  if (mkdir(path, 0777) == 0) d->created = true;
  else if (errno != EEXIST) return snprintf(err, n, "cannot create the run folder %s: %s", path, strerror(errno)), false;
  struct stat st;
  if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode))
    return snprintf(err, n, "cannot use %s as the run folder: it is not a folder", path), false;
  char lock[1100];
  snprintf(lock, sizeof lock, "%s/" LOCK_NAME, path);
  if ((d->lock_fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0666)) < 0)
    return snprintf(err, n, "cannot create the lock file %s: %s", lock, strerror(errno)), false;
  if (flock(d->lock_fd, LOCK_EX | LOCK_NB) != 0) {
    int e = errno;
    long pid = e == EWOULDBLOCK ? holder_pid(d->lock_fd) : 0;
    close(d->lock_fd), d->lock_fd = -1;
    if (e != EWOULDBLOCK) return snprintf(err, n, "cannot lock the run folder %s: %s", path, strerror(e)), false;
    return snprintf(err, n, "the run folder %s is in use by another sqnrun (process %ld): wait for it to finish, "
                            "or give this run another --out", path, pid), false;
  }
  char pid[32];
  int len = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
  if (ftruncate(d->lock_fd, 0) != 0 || pwrite(d->lock_fd, pid, (size_t)len, 0) != len) { /* only informative */ }
  remove_temporaries(path);
  if (!claim_folder(path, use, err, n)) return close(d->lock_fd), d->lock_fd = -1, false;
  return true;
}

void run_dir_close(RunDir *d, bool started) {
  if (!d->path[0] || d->lock_fd < 0) return; /* never opened (zeroed), or the lock was not taken */
  if (!started && d->created) {
    char lock[1100];
    snprintf(lock, sizeof lock, "%s/" LOCK_NAME, d->path);
    unlink(lock);
    rmdir(d->path); /* fails, as it should, when anything else is in it */
  }
  close(d->lock_fd);
  d->lock_fd = -1;
}

/* The length of the log up to and including the line that records `epoch` as done, or -1. */
static long end_of_epoch_line(FILE *f, int epoch) {
  char want[64], line[4096];
  int wl = snprintf(want, sizeof want, "{\"type\": \"epoch\", \"epoch\": %d,", epoch);
  long end = -1;
  bool at_start = true;
  while (fgets(line, sizeof line, f)) {
    bool whole = strchr(line, '\n') != NULL;
    if (at_start && whole && !strncmp(line, want, (size_t)wl)) end = ftell(f);
    at_start = whole;
  }
  return end;
}

FILE *run_log_open(const RunDir *d, bool resume, int epoch, char *err, size_t n) {
  char path[1100];
  snprintf(path, sizeof path, "%s/log.jsonl", d->path);
  FILE *f = fopen(path, resume ? "a+" : "w");
  if (!f) return snprintf(err, n, "cannot write %s: %s", path, strerror(errno)), NULL;
  if (resume) {
    rewind(f);
    long end = end_of_epoch_line(f, epoch);
    if (end >= 0 && ftruncate(fileno(f), end) != 0) {
      snprintf(err, n, "cannot trim %s to epoch %d: %s", path, epoch, strerror(errno));
      return fclose(f), NULL;
    }
    fseek(f, 0, SEEK_END);
  }
  return f;
}
