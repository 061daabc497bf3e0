// glibc allocator settings for `spr run` (see memory.h).
#include "common/memory.h"

#include <malloc.h>
#include <unistd.h>

#include <cstdio>

namespace spr::memory {

void configureForLongRun() {
  // Two arenas, not glibc's default of eight per core: spr runs a few dozen threads (HTTP
  // clients, watches, RocksDB's background jobs), and each arena keeps its own free pages.
  // Measured with soak_bench (README, "Memory over a long run"): anonymous memory rose with the arenas.
  ::mallopt(M_ARENA_MAX, 2);
  // A fixed mmap threshold. By default glibc raises it to the size of every large block it
  // frees (up to 32 MiB), so RocksDB's 1 MiB memtable blocks, after the first flush, come
  // from the arenas and fragment them; at 128 KiB they are mapped and unmapped whole.
  // Setting it also stops the trim threshold from following it upwards.
  ::mallopt(M_MMAP_THRESHOLD, 128 * 1024);
  ::mallopt(M_TRIM_THRESHOLD, 128 * 1024);
}

void giveBack() { ::malloc_trim(0); }

uint64_t residentBytes() {
  std::FILE* f = std::fopen("/proc/self/statm", "r");
  if (f == nullptr) return 0;
  unsigned long long size = 0, resident = 0;
  int n = std::fscanf(f, "%llu %llu", &size, &resident);
  std::fclose(f);
  if (n != 2) return 0;
  return resident * static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
}

}  // namespace spr::memory
