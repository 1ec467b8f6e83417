/* test_run_files.c - files that must survive crashes and concurrent runs: atomic writes (whole or
   not at all, also on a write error such as a full disk or a file-size limit, and when the process
   is killed before the rename), the run folder lock, removal of a killed run's temporaries, and the
   log that --resume trims back to its checkpoint. */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "atomic_file.h"
#include "run_dir.h"
#include "test_util.h"

/* The whole content of path ("" when missing), in a static buffer. */
static const char *slurp(const char *path) {
  static char buf[4096];
  buf[0] = 0;
  FILE *f = fopen(path, "rb");
  if (!f) return buf;
  size_t k = fread(buf, 1, sizeof buf - 1, f);
  buf[k] = 0;
  fclose(f);
  return buf;
}

/* Entries of dir whose name contains part. */
static int count_named(const char *dir, const char *part) {
  DIR *d = opendir(dir);
  int n = 0;
  for (struct dirent *e; d && (e = readdir(d));) n += strstr(e->d_name, part) != NULL;
  if (d) closedir(d);
  return n;
}

static void test_atomic_write(void) {
  char err[512] = "";
  const char *path = tmp_path("a.txt");
  CHECK(atomic_write(path, "first", 5, err, sizeof err));
  CHECK_STR(slurp(path), "first");
  CHECK(atomic_write(path, "second", 6, err, sizeof err));
  CHECK_STR(slurp(path), "second");
  /* the caller's write failed: the old file stays, the temporary goes, the error names the file */
  AtomicFile a;
  CHECK(atomic_open(&a, path, err, sizeof err));
  fputs("half", a.f);
  errno = ENOSPC;
  CHECK(!atomic_close(&a, false, err, sizeof err));
  CHECK(strstr(err, "a.txt: No space left on device") != NULL);
  CHECK_STR(slurp(path), "second");
  CHECK_EQ_I64(count_named(tmpdir, ".tmp."), 0);
  CHECK(!atomic_write(tmp_path("missing/b.txt"), "x", 1, err, sizeof err));
  CHECK(strstr(err, "cannot write ") && strstr(err, "missing/b.txt: No such file or directory"));
  CHECK(atomic_is_temporary("last.safetensors.tmp.123.4") && !atomic_is_temporary("last.safetensors"));
}

/* A write that runs into a limit (here RLIMIT_FSIZE, as a full disk would) fails with the
   system's reason and leaves the previous file whole. Runs in a child: the limit is per process. */
static void test_write_limit(void) {
  const char *path = tmp_path("big.bin");
  char err[512];
  CHECK(atomic_write(path, "previous", 8, err, sizeof err));
  pid_t pid = fork();
  if (pid == 0) {
    signal(SIGXFSZ, SIG_IGN);
    struct rlimit rl = {4096, 4096};
    setrlimit(RLIMIT_FSIZE, &rl);
    static char big[65536];
    bool ok = atomic_write(path, big, sizeof big, err, sizeof err);
    _exit(!ok && strstr(err, "File too large") ? 0 : 1);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  CHECK_STR(slurp(path), "previous");
  CHECK_EQ_I64(count_named(tmpdir, "big.bin.tmp."), 0);
}

/* SQN_FAULT=atomic-rename:2 kills the process at its second atomic rename: the first file is
   written, the second keeps its old content, and the complete temporary stays behind. */
static void test_fault_kill(void) {
  const char *p1 = tmp_path("f1.txt"), *p2 = tmp_path("f2.txt");
  char err[512];
  CHECK(atomic_write(p2, "old", 3, err, sizeof err));
  pid_t pid = fork();
  if (pid == 0) {
    setenv("SQN_FAULT", "atomic-rename:2", 1);
    atomic_write(p1, "one", 3, err, sizeof err);
    atomic_write(p2, "two", 3, err, sizeof err);
    _exit(0);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
  CHECK_STR(slurp(p1), "one");
  CHECK_STR(slurp(p2), "old");
  CHECK_EQ_I64(count_named(tmpdir, "f2.txt.tmp."), 1);
}

static void test_run_dir(void) {
  char err[512];
  const char *dir = tmp_path("run");
  RunDir a, b, never = {0};
  run_dir_close(&never, false); /* a zeroed, never-opened folder: nothing to release */
  /* a fresh folder that never started a run is removed again */
  CHECK(run_dir_open(&a, dir, RUN_DIR_NEW, err, sizeof err));
  CHECK(a.created);
  run_dir_close(&a, false);
  CHECK(access(dir, F_OK) != 0);
  /* a second run on the same folder is refused, naming the holder; after the first ends it may go */
  CHECK(run_dir_open(&a, dir, RUN_DIR_NEW, err, sizeof err));
  CHECK(!run_dir_open(&b, dir, RUN_DIR_NEW, err, sizeof err));
  char want[128];
  snprintf(want, sizeof want, "is in use by another sqnrun (process %ld)", (long)getpid());
  CHECK(strstr(err, want) && strstr(err, "another --out"));
  if (!strstr(err, want)) fprintf(stderr, "got: %s\n", err);
  run_dir_close(&a, true);
  CHECK(access(dir, F_OK) == 0); /* a run that started keeps its folder */
  /* temporaries left by a killed run are removed when the folder is opened again */
  char tmp[600];
  snprintf(tmp, sizeof tmp, "%s/last.safetensors.tmp.99.1", dir);
  FILE *f = fopen(tmp, "w");
  if (f) fclose(f);
  CHECK(run_dir_open(&b, dir, RUN_DIR_NEW, err, sizeof err));
  CHECK(access(tmp, F_OK) != 0);
  run_dir_close(&b, true);
  /* a file where the folder should be */
  CHECK(atomic_write(tmp_path("plain"), "x", 1, err, sizeof err));
  CHECK(!run_dir_open(&a, tmp_path("plain"), RUN_DIR_NEW, err, sizeof err) && strstr(err, "is not a folder"));
}

/* --resume after a checkpoint of 2 epochs: the log is cut after epoch 2's line (a killed run had
   logged steps of epoch 3, the last one half written); a new run starts an empty log. */
static void test_run_log(void) {
  char err[512], path[1100];
  RunDir d;
  CHECK(run_dir_open(&d, tmp_path("logrun"), RUN_DIR_NEW, err, sizeof err));
  FILE *f = run_log_open(&d, false, 0, err, sizeof err);
  CHECK(f != NULL);
  if (!f) return;
  fputs("{\"type\": \"step\", \"step\": 1}\n{\"type\": \"epoch\", \"epoch\": 1, \"step\": 1}\n"
        "{\"type\": \"step\", \"step\": 2}\n{\"type\": \"epoch\", \"epoch\": 2, \"step\": 2}\n"
        "{\"type\": \"step\", \"step\": 3}\n{\"type\": \"st",
        f);
  fclose(f);
  CHECK((f = run_log_open(&d, true, 2, err, sizeof err)) != NULL);
  if (f) fputs("{\"type\": \"step\", \"step\": 3}\n", f), fclose(f);
  snprintf(path, sizeof path, "%s/log.jsonl", d.path);
  CHECK_STR(slurp(path), "{\"type\": \"step\", \"step\": 1}\n{\"type\": \"epoch\", \"epoch\": 1, \"step\": 1}\n"
                         "{\"type\": \"step\", \"step\": 2}\n{\"type\": \"epoch\", \"epoch\": 2, \"step\": 2}\n"
                         "{\"type\": \"step\", \"step\": 3}\n");
  CHECK((f = run_log_open(&d, false, 0, err, sizeof err)) != NULL);
  if (f) fclose(f);
  CHECK_STR(slurp(path), "");
  run_dir_close(&d, true);
}

int main(void) {
  snprintf(tmpdir, sizeof tmpdir, "/tmp/sqn_run_files_XXXXXX");
  if (!mkdtemp(tmpdir)) return perror("mkdtemp"), 1;
  test_atomic_write();
  test_write_limit();
  test_fault_kill();
  test_run_dir();
  test_run_log();
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
  if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", tmpdir);
  return test_summary();
}
