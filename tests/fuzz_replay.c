/* fuzz_replay.c - runs the fuzz target (tests/fuzz_frontend.c) on given inputs, without libFuzzer,
   so the seed corpus and saved reproducers run in every build (plain, ASan, fuzz).
   Usage: fuzz_replay [--in-process] FILE|DIR...   (a DIR means the files directly inside it).
   Each input runs in a child process, so a crash, sanitizer report or leak fails only that input
   and the rest still run; --in-process runs them all in this process (for a debugger).
   Prints one line per failing input and "N passed, M failed"; exits non-zero if any failed. */
#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int passed, failed;

static bool read_file(const char *path, uint8_t **data, size_t *size) {
  FILE *f = fopen(path, "rb");
  if (!f) return false;
  size_t cap = 4096, n = 0;
  uint8_t *buf = malloc(cap);
  for (size_t got; buf && (got = fread(buf + n, 1, cap - n, f)) > 0;) {
    n += got;
    if (n == cap) {
      uint8_t *nb = realloc(buf, cap *= 2);
      if (!nb) free(buf);
      buf = nb;
    }
  }
  bool ok = buf && !ferror(f);
  fclose(f);
  if (!ok) {
    free(buf);
    return false;
  }
  *data = buf;
  *size = n;
  return true;
}

static int run_one(const char *path) {
  uint8_t *data;
  size_t size;
  if (!read_file(path, &data, &size)) {
    fprintf(stderr, "fuzz_replay: cannot read %s\n", path);
    return 1;
  }
  int rc = LLVMFuzzerTestOneInput(data, size);
  free(data);
  return rc;
}

static void replay(const char *path, bool in_process) {
  int ok;
  if (in_process) {
    ok = run_one(path) == 0;
  } else {
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
      perror("fuzz_replay: fork");
      ok = run_one(path) == 0;
    } else if (pid == 0) {
      exit(run_one(path) ? 1 : 0); /* exit(), not _exit(): LeakSanitizer checks at exit */
    } else {
      int status = 0;
      while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
      }
      ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
      if (!ok && WIFSIGNALED(status)) fprintf(stderr, "FAIL %s (signal %d)\n", path, WTERMSIG(status));
      else if (!ok) fprintf(stderr, "FAIL %s (exit status %d)\n", path, WEXITSTATUS(status));
    }
  }
  if (ok) passed++;
  else failed++;
  if (!ok && in_process) fprintf(stderr, "FAIL %s\n", path);
}

static int by_name(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static void replay_dir(const char *dir, bool in_process) {
  DIR *d = opendir(dir);
  if (!d) {
    fprintf(stderr, "FAIL %s (cannot open directory)\n", dir);
    failed++;
    return;
  }
  char **names = NULL;
  size_t n = 0, cap = 0;
  for (struct dirent *de; (de = readdir(d));) {
    if (de->d_name[0] == '.') continue;
    size_t len = strlen(dir) + strlen(de->d_name) + 2;
    char *p = malloc(len);
    if (!p) break;
    snprintf(p, len, "%s/%s", dir, de->d_name);
    struct stat st;
    if (stat(p, &st) || !S_ISREG(st.st_mode)) {
      free(p);
      continue;
    }
    if (n == cap) {
      char **nn = realloc(names, (cap = cap ? cap * 2 : 64) * sizeof *names);
      if (!nn) {
        free(p);
        break;
      }
      names = nn;
    }
    names[n++] = p;
  }
  closedir(d);
  if (n) qsort(names, n, sizeof *names, by_name);
  for (size_t i = 0; i < n; i++) {
    replay(names[i], in_process);
    free(names[i]);
  }
  free(names);
}

int main(int argc, char **argv) {
  bool in_process = false;
  int inputs = 0;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--in-process")) {
      in_process = true;
      continue;
    }
    inputs++;
    struct stat st;
    if (!stat(argv[i], &st) && S_ISDIR(st.st_mode)) replay_dir(argv[i], in_process);
    else replay(argv[i], in_process);
  }
  if (!inputs) {
    fprintf(stderr, "usage: fuzz_replay [--in-process] FILE|DIR...\n");
    return 2;
  }
  printf("%d passed, %d failed\n", passed, failed);
  return failed ? 1 : 0;
}
