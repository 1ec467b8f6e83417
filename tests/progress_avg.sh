#!/bin/sh
# progress_avg.sh SQNRUN ARGS...: a training run's last progress line of each epoch shows, as "avg", the
# same mean loss as the epoch's summary line ("train loss").
out=$("$@" 2>&1) || { echo "$out"; exit 1; }
echo "$out" | awk '
  /\(avg [0-9.]+\)/ { match($0, /\(avg [0-9.]+\)/); avg = substr($0, RSTART + 5, RLENGTH - 6) }
  /: train loss / { n++; split($0, w, "train loss "); split(w[2], v, ","); loss = v[1]
                    if (avg != loss) { print "epoch summary " loss " but progress avg " avg; bad = 1 } }
  END { if (!n) { print "no epoch summary line"; exit 1 } if (bad) exit 1; print n " epochs: progress avg = epoch mean" }'
