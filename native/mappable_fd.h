// Which fds mmapRegion may map (issue 15 row 4): a mapping past the end of what backs it turns the
// first read there into SIGBUS, which no JS code can catch.
#pragma once

#include <napi.h>

#include <cstdint>

namespace ddk {

/** True when [fileOffset, fileOffset + size) of `fd` may be mmap'd: a VFIO device fd (the group
 *  flow's anon inode "[vfio-device]", or a character device as /dev/vfio/devices/vfioN is — the
 *  kernel's vfio_pci_core_mmap then checks the range against the region itself), or a regular file
 *  the range lies inside (tests use one as a stand-in). Otherwise throws — Error 'ENODEV' (syscall
 *  'mmap', as mmap itself would answer) for any other kind of fd, RangeError 'ERR_OUT_OF_RANGE' for a
 *  range past the end of a file — and returns false. */
bool CheckMappableFd(Napi::Env env, int fd, uint64_t fileOffset, uint64_t size);

}  // namespace ddk
