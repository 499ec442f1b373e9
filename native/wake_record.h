// The wake record: where native code leaves what one eventfd read produced — CLOCK_BOOTTIME and
// CLOCK_MONOTONIC ns taken at the read (shared DESIGN.md "timestamps taken in native code when the
// eventfd is read") and the count read — so JS reads them without a BigInt or an object per
// interrupt (lib/irq/stamps.ts). It is a caller-owned Int32Array of at least 6 elements: three
// little-endian uint64 slots, boot, mono, count, in that order. Written with memcpy: an Int32Array's
// data is only 4-byte aligned.
#pragma once

#include <napi.h>

#include <cstdint>
#include <cstring>

#include "clock.h"

namespace ddk {

constexpr size_t kWakeRecordInts = 6;

/** info[i] as a wake record: its data, or null after throwing a TypeError naming `what`. */
uint8_t* ArgWakeRecord(const Napi::CallbackInfo& info, size_t i, const char* what);

/** The two clocks now into the record's boot/mono slots. MONOTONIC first: BOOTTIME = MONOTONIC + time
 *  suspended, so boot >= mono holds for the pair. */
inline void WakeStampNow(uint8_t* record) {
  const uint64_t mono = ClockNs(CLOCK_MONOTONIC);
  const uint64_t boot = ClockNs(CLOCK_BOOTTIME);
  std::memcpy(record, &boot, sizeof boot);
  std::memcpy(record + 8, &mono, sizeof mono);
}

inline void WakeSetCount(uint8_t* record, uint64_t count) { std::memcpy(record + 16, &count, sizeof count); }

}  // namespace ddk
