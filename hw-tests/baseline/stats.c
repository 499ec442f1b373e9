#define _GNU_SOURCE
#include "stats.h"
#include <stdlib.h>
#include <time.h>

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* Nearest-rank percentile, the same definition the JS side uses (scripts/bench/stats.mjs). */
static double rank(const double *sorted, size_t n, double q) {
  size_t i = (size_t)(q * (double)n);
  if (i >= n) i = n - 1;
  return sorted[i];
}

struct summary summarize(double *samples, size_t n) {
  struct summary s = {0, 0, 0, 0};
  if (n == 0) return s;
  qsort(samples, n, sizeof *samples, cmp_double);
  s.min = samples[0];
  s.median = rank(samples, n, 0.5);
  s.p99 = rank(samples, n, 0.99);
  s.max = samples[n - 1];
  return s;
}

void print_row(FILE *out, const char *name, const struct summary *s, size_t n, const char *extra_json) {
  fprintf(out, "{\"name\":\"%s\",\"unit\":\"ns\",\"n\":%zu,\"min\":%.1f,\"median\":%.1f,\"p99\":%.1f,\"max\":%.1f%s%s}\n",
          name, n, s->min, s->median, s->p99, s->max, extra_json ? "," : "", extra_json ? extra_json : "");
  fflush(out);
}

uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}
