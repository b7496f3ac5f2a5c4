#include "route_replay/process_memory.h"

#include <malloc.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

namespace route_replay {

size_t PeakRssBytes() {
  struct rusage usage {};
  if (getrusage(RUSAGE_SELF, &usage) != 0) return 0;
  return static_cast<size_t>(usage.ru_maxrss) * 1024;  // Linux reports KiB
}

size_t MinorFaults() {
  struct rusage usage {};
  if (getrusage(RUSAGE_SELF, &usage) != 0) return 0;
  return static_cast<size_t>(usage.ru_minflt);
}

void PrefaultHeap(size_t bytes) {
  constexpr size_t kBlock = size_t{1} << 20;  // below glibc's mmap threshold
  mallopt(M_TRIM_THRESHOLD, 1 << 30);         // never give freed memory back
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  std::vector<void*> blocks;
  for (size_t done = 0; done < bytes; done += kBlock) {
    void* block = std::malloc(kBlock);
    if (block == nullptr) break;
    std::memset(block, 1, kBlock);
    blocks.push_back(block);
  }
  for (void* block : blocks) std::free(block);  // coalesced back into the heap
}

double FirstTouchNsPerPage(size_t pages) {
  if (pages == 0) return 0;
  const size_t page_bytes = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  const size_t bytes = pages * page_bytes;
  double best = 0;
  for (int attempt = 0; attempt < 3; ++attempt) {
    void* map = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (map == MAP_FAILED) return 0;
    madvise(map, bytes, MADV_NOHUGEPAGE);  // 4 KiB faults, whatever THP's mode
    volatile char* bytes_at = static_cast<volatile char*>(map);
    const auto start = std::chrono::steady_clock::now();
    for (size_t offset = 0; offset < bytes; offset += page_bytes) bytes_at[offset] = 1;
    const double ns = std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - start).count();
    munmap(map, bytes);
    const double per_page = ns / static_cast<double>(pages);
    best = attempt == 0 ? per_page : std::min(best, per_page);
  }
  return best;
}

size_t CurrentRssBytes() {
  std::FILE* f = std::fopen("/proc/self/statm", "r");
  if (f == nullptr) return 0;
  unsigned long total_pages = 0;
  unsigned long resident_pages = 0;
  const int read = std::fscanf(f, "%lu %lu", &total_pages, &resident_pages);
  std::fclose(f);
  if (read != 2) return 0;
  return static_cast<size_t>(resident_pages) * static_cast<size_t>(sysconf(_SC_PAGESIZE));
}

}  // namespace route_replay
