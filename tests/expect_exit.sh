#!/bin/sh
# expect_exit.sh CODE REGEX -- CMD ARGS...: runs CMD, checks that it exits with CODE and that its
# stdout+stderr (newlines joined into spaces) match the extended regular expression REGEX.
if [ "$#" -lt 4 ] || [ "$3" != "--" ]; then
  echo "usage: expect_exit.sh CODE REGEX -- CMD ARGS..." >&2
  exit 2
fi
code=$1 regex=$2
shift 3
out=$("$@" 2>&1)
rc=$?
printf '%s\n' "$out"
if [ "$rc" -ne "$code" ]; then
  echo "expect_exit.sh: exit code $rc, expected $code" >&2
  exit 1
fi
if ! printf '%s' "$out" | tr '\n' ' ' | grep -Eq -- "$regex"; then
  echo "expect_exit.sh: output does not match: $regex" >&2
  exit 1
fi
exit 0
