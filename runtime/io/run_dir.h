/* run_dir.h - the output folder of a training run or a search (--out DIR): created when missing and
   locked for as long as the process lives, so that a second run given the same folder stops with a
   clear message instead of interleaving its checkpoints and log with the first's. Temporaries that
   a killed run left behind (atomic_file.h) are removed once the lock is held. */
#ifndef SQN_RUN_DIR_H
#define SQN_RUN_DIR_H
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

typedef struct RunDir {
  int lock_fd;   /* holds the flock on DIR/.sqnrun.lock; -1 when not open */
  bool created;  /* this process made the folder */
  char path[1024];
} RunDir;

/* What a run does with a folder that already holds a run (its log, checkpoints, derived network): a
   new run refuses it (never a silent mix of old and new files), --resume continues it, --overwrite
   first removes the files a run writes there (nothing else). */
typedef enum RunDirUse { RUN_DIR_NEW, RUN_DIR_RESUME, RUN_DIR_OVERWRITE } RunDirUse;

/* Creates (one level) and locks path; false with err naming the folder and, when another run holds
   it, that run's process id, or (RUN_DIR_NEW) the run files already in it. */
bool run_dir_open(RunDir *d, const char *path, RunDirUse use, char *err, size_t n);
/* Releases the lock (nothing for a zeroed RunDir that was never opened); when the run never started (started = false) and this process made the
   folder, removes the folder again if nothing else is in it. */
void run_dir_close(RunDir *d, bool started);

/* The run's JSON-lines log DIR/log.jsonl: a new one, or for --resume of a checkpoint saved after
   `epoch` epochs, the existing one cut after that epoch's {"type": "epoch"} line, so that steps
   logged after the checkpoint (by a run that was killed) are not there twice. */
FILE *run_log_open(const RunDir *d, bool resume, int epoch, char *err, size_t n);
#endif
