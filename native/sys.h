// Small syscall helpers shared by the VFIO/iommufd files: EINTR-safe ioctl and open, and the hints
// that name the limit or setting to change.
#pragma once

#include <fcntl.h>
#include <sys/ioctl.h>

#include <cerrno>
#include <string>

namespace ddk {

inline int Ioctl(int fd, unsigned long request, void* arg) {
  int rc;
  do rc = ioctl(fd, request, arg); while (rc < 0 && errno == EINTR);
  return rc;
}

inline int IoctlValue(int fd, unsigned long request, unsigned long arg) {
  int rc;
  do rc = ioctl(fd, request, arg); while (rc < 0 && errno == EINTR);
  return rc;
}

inline int OpenRdwr(const std::string& path) {
  int fd;
  do fd = open(path.c_str(), O_RDWR | O_CLOEXEC); while (fd < 0 && errno == EINTR);
  return fd;
}

/** "RLIMIT_MEMLOCK is 8 MiB …; raise it with `ulimit -l` …" — for ENOMEM/EPERM from mlock and MAP_DMA. */
std::string MemlockHint();

}  // namespace ddk
