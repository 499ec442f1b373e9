/*
 * vfio-baseline: the C side of the benchmark (issue "Benchmarks against a C baseline"). Runs on the real
 * QEMU edu inside the guest, through VFIO type1 directly, and prints one JSON row per measurement; the
 * JS side measures the same rows in the same guest boot and the report divides JS by C.
 *
 *   vfio-baseline [--bdf 0000:00:01.0] [--iterations 10000] [--storm 100000]
 *
 * Register offsets are edu's (spec/edu.md D.2): 0x04 liveness, 0x60 raise, 0x64 ack. MSI is vector 0
 * of VFIO_PCI_MSI_IRQ_INDEX; edu sends one MSI per raise while MSI is enabled (D.3, D.7).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/vfio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include "stats.h"
#include "vfio_edu.h"

#define EDU_LIVENESS (0x04 / 4)
#define EDU_IRQ_STATUS (0x24 / 4)
#define EDU_IRQ_RAISE (0x60 / 4)
#define EDU_IRQ_ACK (0x64 / 4)
#define PCI_COMMAND 0x04
#define PCI_COMMAND_MEMORY 0x2
#define PCI_COMMAND_MASTER 0x4
#define WARMUP 1000
#define MMIO_BATCH 64
/* 2 MiB-aligned, as the JS IOVA allocator aligns a 2 MiB mapping, so the IOMMU may use a superpage for
 * either side alike (a 1 MiB-aligned IOVA forces 512 small PTEs and made C look 3× slower). */
#define DMA_IOVA 0x200000ull
#ifndef MAP_HUGE_SHIFT
#define MAP_HUGE_SHIFT 26
#endif

static double *samples;

static int read_eventfd(int fd, uint64_t *count) {
  for (;;) {
    ssize_t n = read(fd, count, sizeof *count);
    if (n == sizeof *count) return 0;
    if (n < 0 && errno == EINTR) continue;
    return -1;
  }
}

/* write 0x60 → eventfd readable → write 0x64; blocking read or busy-polling a non-blocking one. */
static void msi_roundtrip(struct vfio_dev *d, int efd, size_t iterations, int busy, const char *name) {
  uint64_t count;
  for (size_t i = 0; i < WARMUP + iterations; i++) {
    uint64_t t0 = now_ns();
    d->bar0[EDU_IRQ_RAISE] = 1;
    if (busy) {
      while (read(efd, &count, sizeof count) != sizeof count) {
      }
    } else if (read_eventfd(efd, &count) < 0) {
      perror("eventfd read");
      exit(1);
    }
    d->bar0[EDU_IRQ_ACK] = 1;
    uint64_t t1 = now_ns();
    if (i >= WARMUP) samples[i - WARMUP] = (double)(t1 - t0);
  }
  struct summary s = summarize(samples, iterations);
  print_row(stdout, name, &s, samples, iterations, NULL);
}

/* Per-access time, measured over batches so the clock read does not dominate a 0.1 µs access. */
static void mmio(struct vfio_dev *d, size_t iterations, int write) {
  volatile uint32_t sink = 0;
  for (size_t i = 0; i < WARMUP / 10 + iterations; i++) {
    uint64_t t0 = now_ns();
    for (int k = 0; k < MMIO_BATCH; k++) {
      if (write) d->bar0[EDU_LIVENESS] = (uint32_t)k;
      else sink += d->bar0[0];
    }
    uint64_t t1 = now_ns();
    if (i >= WARMUP / 10) samples[i - WARMUP / 10] = (double)(t1 - t0) / MMIO_BATCH;
  }
  (void)sink;
  struct summary s = summarize(samples, iterations);
  print_row(stdout, write ? "mmio_write32" : "mmio_read32", &s, samples, iterations, NULL);
}

static void dma_map_unmap(struct vfio_dev *d, size_t size, int hugetlb, size_t iterations, const char *name) {
  /* Allocated as the addon allocates DMA memory (native/dma.cc): anonymous, touched, mlock'd — so the
   * row compares the map/unmap path, not page faulting in an unlocked buffer. The page size is explicit
   * on both sides: 4 KiB pages (transparent huge pages refused for this buffer, whatever the guest's THP
   * mode, as dmaAlloc({ transparentHugepages: false }) does), or one 2 MiB hugetlb page as
   * dmaAlloc({ hugepage: true }) takes it (MAP_HUGETLB). */
  int flags = MAP_PRIVATE | MAP_ANONYMOUS | (hugetlb ? MAP_HUGETLB | (21 << MAP_HUGE_SHIFT) : 0);
  void *buf = mmap(NULL, size, PROT_READ | PROT_WRITE, flags, -1, 0);
  if (buf == MAP_FAILED) {
    if (hugetlb) { fprintf(stderr, "vfio-baseline: %s skipped: no 2 MiB huge page (vm.nr_hugepages)\n", name); return; }
    perror("mmap");
    exit(1);
  }
  if (!hugetlb) madvise(buf, size, MADV_NOHUGEPAGE);
  memset(buf, 0, size);
  if (mlock(buf, size) < 0) { perror("mlock"); exit(1); }
  for (size_t i = 0; i < 10 + iterations; i++) {
    uint64_t t0 = now_ns();
    if (vfio_map_dma(d, buf, DMA_IOVA, size) < 0 || vfio_unmap_dma(d, DMA_IOVA, size) < 0) exit(1);
    uint64_t t1 = now_ns();
    if (i >= 10) samples[i - 10] = (double)(t1 - t0);
  }
  munlock(buf, size);
  munmap(buf, size);
  struct summary s = summarize(samples, iterations);
  print_row(stdout, name, &s, samples, iterations, NULL);
}

/* Level INTx: raise → eventfd → ack (level drops) → VFIO unmask (the line was automasked). */
static void intx_roundtrip(struct vfio_dev *d, int efd, size_t iterations) {
  uint64_t count;
  for (size_t i = 0; i < WARMUP + iterations; i++) {
    uint64_t t0 = now_ns();
    d->bar0[EDU_IRQ_RAISE] = 1;
    if (read_eventfd(efd, &count) < 0) { perror("eventfd read"); exit(1); }
    d->bar0[EDU_IRQ_ACK] = 1;
    if (vfio_unmask_intx(d) < 0) exit(1);
    uint64_t t1 = now_ns();
    if (i >= WARMUP) samples[i - WARMUP] = (double)(t1 - t0);
  }
  struct summary s = summarize(samples, iterations);
  print_row(stdout, "intx_roundtrip", &s, samples, iterations, NULL);
}

/* N raises as fast as possible; every raise must show up in the eventfd counter (coalesced or not). */
static void storm(struct vfio_dev *d, int efd, size_t n) {
  uint64_t delivered = 0, count, reads = 0;
  uint64_t t0 = now_ns();
  for (size_t i = 0; i < n; i++) {
    d->bar0[EDU_IRQ_RAISE] = 1;
    if (read(efd, &count, sizeof count) == sizeof count) { delivered += count; reads++; }
  }
  uint64_t deadline = now_ns() + 2000000000ull;
  while (delivered < n && now_ns() < deadline) {
    if (read(efd, &count, sizeof count) == sizeof count) { delivered += count; reads++; }
  }
  uint64_t t1 = now_ns();
  d->bar0[EDU_IRQ_ACK] = 1;
  double per = (double)(t1 - t0) / (double)n;
  struct summary s = {per, per, per, per};
  char extra[160];
  snprintf(extra, sizeof extra, "\"raises\":%zu,\"delivered\":%llu,\"reads\":%llu,\"lost\":%lld,\"rate_per_s\":%.0f", n,
           (unsigned long long)delivered, (unsigned long long)reads, (long long)n - (long long)delivered,
           1e9 / per);
  print_row(stdout, "storm", &s, NULL, n, extra);
}

int main(int argc, char **argv) {
  const char *bdf = "0000:00:01.0";
  size_t iterations = 10000, storm_n = 100000;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!strcmp(argv[i], "--bdf")) bdf = argv[i + 1];
    else if (!strcmp(argv[i], "--iterations")) iterations = strtoul(argv[i + 1], NULL, 10);
    else if (!strcmp(argv[i], "--storm")) storm_n = strtoul(argv[i + 1], NULL, 10);
    else { fprintf(stderr, "usage: vfio-baseline [--bdf BDF] [--iterations N] [--storm N]\n"); return 2; }
  }
  if (iterations == 0 || storm_n == 0) { fprintf(stderr, "vfio-baseline: counts must be positive\n"); return 2; }
  samples = calloc(iterations, sizeof *samples);
  struct vfio_dev d;
  if (!samples || vfio_open(&d, bdf) < 0) return 1;
  uint16_t cmd;
  if (vfio_config_read16(&d, PCI_COMMAND, &cmd) < 0 ||
      vfio_config_write16(&d, PCI_COMMAND, cmd | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER) < 0) return 1;

  int efd = eventfd(0, EFD_CLOEXEC);
  int nb = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (efd < 0 || nb < 0) { perror("eventfd"); return 1; }

  if (vfio_set_irq_eventfds(&d, VFIO_PCI_MSI_IRQ_INDEX, &efd, 1) < 0) return 1;
  msi_roundtrip(&d, efd, iterations, 0, "msi_roundtrip_blocking");
  if (vfio_set_irq_eventfds(&d, VFIO_PCI_MSI_IRQ_INDEX, &nb, 1) < 0) return 1;
  msi_roundtrip(&d, nb, iterations, 1, "msi_roundtrip_busypoll");
  storm(&d, nb, storm_n);
  if (vfio_set_irq_eventfds(&d, VFIO_PCI_MSI_IRQ_INDEX, NULL, 0) < 0) return 1;

  mmio(&d, iterations, 0);
  mmio(&d, iterations, 1);
  dma_map_unmap(&d, 4096, 0, iterations, "dma_map_unmap_4k");
  dma_map_unmap(&d, 2u << 20, 0, iterations / 10 ? iterations / 10 : 1, "dma_map_unmap_2m");
  dma_map_unmap(&d, 2u << 20, 1, iterations / 10 ? iterations / 10 : 1, "dma_map_unmap_2m_hugetlb");

  if (vfio_set_irq_eventfds(&d, VFIO_PCI_INTX_IRQ_INDEX, &efd, 1) < 0) return 1;
  intx_roundtrip(&d, efd, iterations);
  vfio_set_irq_eventfds(&d, VFIO_PCI_INTX_IRQ_INDEX, NULL, 0);

  close(efd);
  close(nb);
  vfio_close(&d);
  free(samples);
  return 0;
}
