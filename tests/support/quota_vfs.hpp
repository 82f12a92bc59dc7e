// SPDX-License-Identifier: MIT
#pragma once

// A SQLite VFS that behaves like a small disk: it forwards everything to the default VFS, but a write that
// would make the files it opened (database, WAL, journal) use more than `quota` bytes in total fails with
// SQLITE_FULL, exactly where the default VFS returns SQLITE_FULL for ENOSPC. Overwriting bytes within a
// file's current size needs no space, and truncating a file gives space back, as on a real file system.
// Raising the quota is "freeing space". Used by the full-disk tests where mounting a small tmpfs is not
// possible (not root); see docs/calendar-sync.md.
//
// Register once per process with quota_vfs::install(); open connections with open_options::vfs =
// quota_vfs::name. Thread-safe (the quota and the set of files are atomics / under a mutex).

#include <sqlite3.h>

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <mutex>
#include <set>
#include <string>
#include <system_error>

namespace quota_vfs {

inline constexpr const char* name = "mb_quota";

struct state {
    std::atomic<std::uint64_t> quota{std::numeric_limits<std::uint64_t>::max()};
    std::atomic<std::uint64_t> refused{0};  // writes refused for lack of space
    std::mutex mutex;
    std::set<std::string> files;  // paths this VFS opened (main databases, WALs, journals)
    sqlite3_vfs* real = nullptr;
    sqlite3_vfs vfs{};
    sqlite3_io_methods methods{};
};

inline state& the()
{
    static state s;
    return s;
}

/// Bytes used by the files the VFS has opened (as the file system reports them now).
inline std::uint64_t used()
{
    auto& s = the();
    const std::lock_guard lock(s.mutex);
    std::uint64_t total = 0;
    for (const auto& f : s.files) {
        std::error_code ec;
        const auto n = std::filesystem::file_size(f, ec);
        if (!ec) total += static_cast<std::uint64_t>(n);
    }
    return total;
}

/// Sets the size of the "disk": the files may use `bytes` in total.
inline void set_quota(std::uint64_t bytes)
{
    the().quota = bytes;
}
inline void unlimited()
{
    the().quota = std::numeric_limits<std::uint64_t>::max();
}

struct file {
    sqlite3_file base;
    sqlite3_file* real;
};

inline sqlite3_file* real_of(sqlite3_file* f)
{
    return reinterpret_cast<file*>(f)->real;
}

inline int x_close(sqlite3_file* f)
{
    const int rc = real_of(f)->pMethods != nullptr ? real_of(f)->pMethods->xClose(real_of(f)) : SQLITE_OK;
    return rc;
}
inline int x_read(sqlite3_file* f, void* buf, int amt, sqlite3_int64 off)
{
    return real_of(f)->pMethods->xRead(real_of(f), buf, amt, off);
}
inline int x_write(sqlite3_file* f, const void* buf, int amt, sqlite3_int64 off)
{
    sqlite3_file* r = real_of(f);
    sqlite3_int64 size = 0;
    if (const int rc = r->pMethods->xFileSize(r, &size); rc != SQLITE_OK) return rc;
    const sqlite3_int64 end = off + amt;
    if (end > size) {
        const auto growth = static_cast<std::uint64_t>(end - size);
        if (used() + growth > the().quota.load()) {
            ++the().refused;
            return SQLITE_FULL;
        }
    }
    return r->pMethods->xWrite(r, buf, amt, off);
}
inline int x_truncate(sqlite3_file* f, sqlite3_int64 size)
{
    return real_of(f)->pMethods->xTruncate(real_of(f), size);
}
inline int x_sync(sqlite3_file* f, int flags)
{
    return real_of(f)->pMethods->xSync(real_of(f), flags);
}
inline int x_file_size(sqlite3_file* f, sqlite3_int64* size)
{
    return real_of(f)->pMethods->xFileSize(real_of(f), size);
}
inline int x_lock(sqlite3_file* f, int l)
{
    return real_of(f)->pMethods->xLock(real_of(f), l);
}
inline int x_unlock(sqlite3_file* f, int l)
{
    return real_of(f)->pMethods->xUnlock(real_of(f), l);
}
inline int x_check_reserved(sqlite3_file* f, int* out)
{
    return real_of(f)->pMethods->xCheckReservedLock(real_of(f), out);
}
inline int x_file_control(sqlite3_file* f, int op, void* arg)
{
    return real_of(f)->pMethods->xFileControl(real_of(f), op, arg);
}
inline int x_sector_size(sqlite3_file* f)
{
    return real_of(f)->pMethods->xSectorSize(real_of(f));
}
inline int x_device(sqlite3_file* f)
{
    return real_of(f)->pMethods->xDeviceCharacteristics(real_of(f));
}
inline int x_shm_map(sqlite3_file* f, int page, int size, int extend, volatile void** out)
{
    return real_of(f)->pMethods->xShmMap(real_of(f), page, size, extend, out);
}
inline int x_shm_lock(sqlite3_file* f, int offset, int n, int flags)
{
    return real_of(f)->pMethods->xShmLock(real_of(f), offset, n, flags);
}
inline void x_shm_barrier(sqlite3_file* f)
{
    real_of(f)->pMethods->xShmBarrier(real_of(f));
}
inline int x_shm_unmap(sqlite3_file* f, int del)
{
    return real_of(f)->pMethods->xShmUnmap(real_of(f), del);
}
inline int x_fetch(sqlite3_file* f, sqlite3_int64 off, int amt, void** pp)
{
    return real_of(f)->pMethods->xFetch(real_of(f), off, amt, pp);
}
inline int x_unfetch(sqlite3_file* f, sqlite3_int64 off, void* p)
{
    return real_of(f)->pMethods->xUnfetch(real_of(f), off, p);
}

inline int x_open(sqlite3_vfs* vfs, const char* path, sqlite3_file* f, int flags, int* out_flags)
{
    auto& s = the();
    auto* wrapper = reinterpret_cast<file*>(f);
    wrapper->real = reinterpret_cast<sqlite3_file*>(wrapper + 1);
    wrapper->base.pMethods = nullptr;
    const int rc = s.real->xOpen(s.real, path, wrapper->real, flags, out_flags);
    if (rc != SQLITE_OK) return rc;
    wrapper->base.pMethods = &s.methods;
    if (path != nullptr) {
        const std::lock_guard lock(s.mutex);
        s.files.insert(path);
    }
    (void)vfs;
    return SQLITE_OK;
}

/// Registers the VFS (once; not as the default).
inline void install()
{
    auto& s = the();
    static std::once_flag once;
    std::call_once(once, [&s] {
        s.real = sqlite3_vfs_find(nullptr);
        s.vfs = *s.real;
        s.vfs.zName = name;
        s.vfs.szOsFile = static_cast<int>(sizeof(file)) + s.real->szOsFile;
        s.vfs.xOpen = x_open;
        s.vfs.pNext = nullptr;
        s.methods.iVersion = 3;
        s.methods.xClose = x_close;
        s.methods.xRead = x_read;
        s.methods.xWrite = x_write;
        s.methods.xTruncate = x_truncate;
        s.methods.xSync = x_sync;
        s.methods.xFileSize = x_file_size;
        s.methods.xLock = x_lock;
        s.methods.xUnlock = x_unlock;
        s.methods.xCheckReservedLock = x_check_reserved;
        s.methods.xFileControl = x_file_control;
        s.methods.xSectorSize = x_sector_size;
        s.methods.xDeviceCharacteristics = x_device;
        s.methods.xShmMap = x_shm_map;
        s.methods.xShmLock = x_shm_lock;
        s.methods.xShmBarrier = x_shm_barrier;
        s.methods.xShmUnmap = x_shm_unmap;
        s.methods.xFetch = x_fetch;
        s.methods.xUnfetch = x_unfetch;
        sqlite3_vfs_register(&s.vfs, 0);
    });
}

}  // namespace quota_vfs
