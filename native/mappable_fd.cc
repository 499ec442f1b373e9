#include "mappable_fd.h"

#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "errors.h"

namespace ddk {

namespace {

// The name VFIO gives the device fd of the group flow (drivers/vfio/group.c vfio_device_open_file →
// anon_inode_getfile("[vfio-device]", ...)); /proc/self/fd shows it as "anon_inode:[vfio-device]".
constexpr const char* kVfioDeviceLink = "anon_inode:[vfio-device]";

std::string FdLink(int fd) {
  char target[256];
  const std::string path = "/proc/self/fd/" + std::to_string(fd);
  const ssize_t n = readlink(path.c_str(), target, sizeof target - 1);
  return n < 0 ? std::string() : std::string(target, static_cast<size_t>(n));
}

bool IsAnonInode(int fd) {
  struct statfs fs {};
  return fstatfs(fd, &fs) == 0 && static_cast<unsigned long>(fs.f_type) == ANON_INODE_FS_MAGIC;
}

bool Refuse(Napi::Env env, int fd, const std::string& what) {
  SysContext ctx;
  ctx.syscall = "mmap";
  ctx.fd = fd;
  ctx.hint = "fd " + std::to_string(fd) + " (" + what + ") is not a VFIO device fd: pass the fd VfioDevice / "
             "vfioGroupGetDeviceFd / vfioCdevOpen returned";
  ThrowSys(env, ENODEV, ctx);
  return false;
}

}  // namespace

bool CheckMappableFd(Napi::Env env, int fd, uint64_t fileOffset, uint64_t size) {
  struct stat st {};
  if (fstat(fd, &st) != 0) {
    SysContext ctx;
    ctx.syscall = "fstat";
    ctx.fd = fd;
    ThrowSys(env, errno, ctx);
    return false;
  }
  // Anon inodes first: newer kernels give them S_IFREG (fs/anon_inodes.c), with st_size 0.
  if (IsAnonInode(fd)) {
    const std::string link = FdLink(fd);
    if (link.empty() || link == kVfioDeviceLink) return true;  // no /proc: the kernel judges
    return Refuse(env, fd, link);
  }
  if (S_ISCHR(st.st_mode)) return true;
  if (S_ISREG(st.st_mode)) {
    const uint64_t fileSize = static_cast<uint64_t>(st.st_size);
    if (fileOffset > fileSize || size > fileSize - fileOffset) {
      ThrowRange(env, "mmap range [" + std::to_string(fileOffset) + ", +" + std::to_string(size) +
                          ") goes past the end of the file (" + std::to_string(fileSize) +
                          " bytes): a read there would raise SIGBUS");
      return false;
    }
    return true;
  }
  const std::string link = FdLink(fd);
  return Refuse(env, fd, link.empty() ? "not a file or device" : link);
}

}  // namespace ddk
