/* err.h - the error convention of sqn: a function that can fail returns false (or NULL) and writes a
   message for the user into the caller's buffer (err, n). */
#ifndef SQN_ERR_H
#define SQN_ERR_H
#include <stdbool.h>
#include <stddef.h>

/* Formats the message into err (nothing when err is NULL or n is 0); returns false. */
bool err_set(char *err, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
#endif
