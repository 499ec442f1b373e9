#define _GNU_SOURCE
#include "stats.h"
#include <math.h>
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

/* The grid of scripts/bench/stats.mjs (HIST_PER_DECADE, histBin): values ≤ 0.01 ns share the lowest bin. */
#define HIST_PER_DECADE 20

static long hist_bin(double ns) {
  return (long)floor(log10(ns > 0.01 ? ns : 0.01) * HIST_PER_DECADE);
}

static void print_histogram(FILE *out, const double *sorted, size_t n) {
  long lo = hist_bin(sorted[0]), hi = hist_bin(sorted[n - 1]);
  fprintf(out, ",\"histogram\":{\"perDecade\":%d,\"start\":%ld,\"counts\":[", HIST_PER_DECADE, lo);
  size_t i = 0;
  for (long k = lo; k <= hi; k++) {
    size_t count = 0;
    while (i < n && hist_bin(sorted[i]) == k) { count++; i++; }
    fprintf(out, "%s%zu", k == lo ? "" : ",", count);
  }
  fputs("]}", out);
}

void print_row(FILE *out, const char *name, const struct summary *s, const double *sorted, size_t n,
               const char *extra_json) {
  fprintf(out, "{\"name\":\"%s\",\"unit\":\"ns\",\"n\":%zu,\"min\":%.1f,\"median\":%.1f,\"p99\":%.1f,\"max\":%.1f",
          name, n, s->min, s->median, s->p99, s->max);
  if (sorted && n > 0) print_histogram(out, sorted, n);
  if (extra_json) fprintf(out, ",%s", extra_json);
  fputs("}\n", out);
  fflush(out);
}

uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}
