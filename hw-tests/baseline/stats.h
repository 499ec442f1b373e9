/* Summary statistics of a sample set, printed as one JSON object per benchmark row. */
#ifndef VFIO_DDK_STATS_H
#define VFIO_DDK_STATS_H
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct summary {
  double min, median, p99, max;
};

/* Sorts `samples` in place and summarises them (nanoseconds in, nanoseconds out). */
struct summary summarize(double *samples, size_t n);

/* Prints {"name":…,"unit":"ns","n":…,"min":…,"median":…,"p99":…,"max":…, histogram, extra} on one line.
 * `sorted` (the samples summarize() sorted, or NULL) adds "histogram":{"perDecade":20,"start":k,"counts":[…]}
 * on the log grid of scripts/bench/stats.mjs: bin k covers [10^(k/20), 10^((k+1)/20)) ns. */
void print_row(FILE *out, const char *name, const struct summary *s, const double *sorted, size_t n,
               const char *extra_json);

uint64_t now_ns(void);
#endif
