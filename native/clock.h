// CLOCK_BOOTTIME / CLOCK_MONOTONIC in nanoseconds (Zircon's two interrupt timelines, shared DESIGN.md).
#pragma once

#include <cstdint>
#include <ctime>

namespace ddk {

inline uint64_t ClockNs(clockid_t clock) {
  timespec ts{};
  clock_gettime(clock, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
}

}  // namespace ddk
