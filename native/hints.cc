#include <sys/resource.h>

#include "sys.h"

namespace ddk {

namespace {
std::string FormatLimit(rlim_t value) {
  if (value == RLIM_INFINITY) return "unlimited";
  if (value % (1024 * 1024) == 0) return std::to_string(value / (1024 * 1024)) + " MiB";
  if (value % 1024 == 0) return std::to_string(value / 1024) + " KiB";
  return std::to_string(value) + " bytes";
}
}  // namespace

std::string MemlockHint() {
  rlimit limit{};
  if (getrlimit(RLIMIT_MEMLOCK, &limit) != 0) return "locked memory is limited by RLIMIT_MEMLOCK; raise it with `ulimit -l`";
  return "locked memory is limited by RLIMIT_MEMLOCK (soft " + FormatLimit(limit.rlim_cur) + ", hard " +
         FormatLimit(limit.rlim_max) +
         "); raise it with `ulimit -l unlimited` (as root), a `memlock` line in /etc/security/limits.conf, "
         "or LimitMEMLOCK= for a systemd service";
}

}  // namespace ddk
