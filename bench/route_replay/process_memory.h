// The process's resident memory, to confirm the tree's own accounting
// (RadixTree::memory_bytes) against what the kernel sees.
#ifndef SMGCORE_BENCH_ROUTE_REPLAY_PROCESS_MEMORY_H_
#define SMGCORE_BENCH_ROUTE_REPLAY_PROCESS_MEMORY_H_

#include <cstddef>

namespace route_replay {

// PeakRssBytes()
//
// The process's peak resident set size so far (getrusage ru_maxrss).
size_t PeakRssBytes();

// MinorFaults()
//
// Minor page faults of the process so far (getrusage ru_minflt): each is
// the kernel handing the process a fresh page on first touch.
size_t MinorFaults();

// PrefaultHeap()
//
// Makes the next `bytes` of small allocations come from pages that are
// already resident: stops glibc from trimming the heap or serving large
// blocks with mmap, then allocates, touches and frees one block of `bytes`.
// For measuring the tree's own work without the kernel's first-touch cost,
// which a long-running router pays once, not per request.
void PrefaultHeap(size_t bytes);

// FirstTouchNsPerPage()
//
// What the kernel charges for a fresh page on this machine: maps `pages`
// anonymous 4 KiB pages (no transparent huge pages), writes one byte to
// each (one minor fault per page), and returns the nanoseconds per page;
// the fastest of three tries; 0 if the mapping fails. A replay on a fresh
// heap pays this once per page the tree grows by; on a virtual machine it
// can be tens of times a bare-metal fault's cost, and so most of a
// fresh-heap replay.
double FirstTouchNsPerPage(size_t pages);

// CurrentRssBytes()
//
// The process's resident set size now (/proc/self/statm); 0 if unreadable.
size_t CurrentRssBytes();

}  // namespace route_replay

#endif  // SMGCORE_BENCH_ROUTE_REPLAY_PROCESS_MEMORY_H_
