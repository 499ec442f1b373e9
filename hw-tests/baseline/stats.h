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

/* Prints {"name":…,"unit":"ns","n":…,"min":…,"median":…,"p99":…,"max":…, extra} on one line. */
void print_row(FILE *out, const char *name, const struct summary *s, size_t n, const char *extra_json);

uint64_t now_ns(void);
#endif
