# Every dependency comes from a Debian 12 package; nothing is downloaded.
include(CMakeFindDependencyMacro)
find_package(Threads REQUIRED)
# Abseil ships a CMake config (libabsl-dev).
find_package(absl CONFIG REQUIRED)

# xxHash and libuv ship only pkg-config files on Debian.
find_package(PkgConfig REQUIRED)
pkg_check_modules(SMG_XXHASH REQUIRED IMPORTED_TARGET libxxhash)

# moodycamel ConcurrentQueue is header-only (libconcurrentqueue-dev installs
# /usr/include/concurrentqueue/concurrentqueue.h).
find_path(SMG_CONCURRENTQUEUE_INCLUDE concurrentqueue/concurrentqueue.h REQUIRED)
if(NOT TARGET smgcore_concurrentqueue)
  add_library(smgcore_concurrentqueue INTERFACE)
  target_include_directories(smgcore_concurrentqueue SYSTEM INTERFACE "${SMG_CONCURRENTQUEUE_INCLUDE}")
endif()

if(SMGCORE_BUILD_TESTS)
  find_package(GTest CONFIG REQUIRED)
endif()
if(SMGCORE_BUILD_BENCH)
  find_package(benchmark CONFIG REQUIRED)
endif()
if(SMGCORE_BUILD_EXAMPLES OR SMGCORE_BUILD_TESTS)
  pkg_check_modules(SMG_LIBUV REQUIRED IMPORTED_TARGET libuv)
endif()
