# Installs the build tree into a scratch prefix, then builds and runs a
# consumer project against it twice: with find_package(smgcore) and with
# pkg-config. Invoked by ctest with -DBUILD_DIR, -DSOURCE_DIR, -DWORK_DIR and
# -DEXTRA_FLAGS (the sanitizer flags when the library was built with them).
cmake_minimum_required(VERSION 3.25)
set(prefix "${WORK_DIR}/prefix")
file(REMOVE_RECURSE "${WORK_DIR}")

function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "command failed (${rc}): ${ARGN}\n${out}\n${err}")
  endif()
  message(STATUS "${out}")
endfunction()

run(${CMAKE_COMMAND} --install "${BUILD_DIR}" --prefix "${prefix}")
foreach(f include/smgcore/router.h include/smgcore/version.h lib/libsmgcore.a
          lib/cmake/smgcore/smgcoreConfig.cmake lib/pkgconfig/smgcore.pc)
  if(NOT EXISTS "${prefix}/${f}")
    message(FATAL_ERROR "install is missing ${f}")
  endif()
endforeach()

# 1. CMake package.
run(${CMAKE_COMMAND} -S "${SOURCE_DIR}/tests/install/consumer" -B "${WORK_DIR}/cmake-build"
    "-DCMAKE_PREFIX_PATH=${prefix}" "-DCMAKE_CXX_FLAGS=${EXTRA_FLAGS}"
    "-DCMAKE_EXE_LINKER_FLAGS=${EXTRA_FLAGS}")
run(${CMAKE_COMMAND} --build "${WORK_DIR}/cmake-build")
run("${WORK_DIR}/cmake-build/consumer")

# 2. pkg-config.
set(ENV{PKG_CONFIG_PATH} "${prefix}/lib/pkgconfig")
execute_process(COMMAND pkg-config --cflags --libs smgcore OUTPUT_VARIABLE pc_flags
                RESULT_VARIABLE rc OUTPUT_STRIP_TRAILING_WHITESPACE)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "pkg-config smgcore failed")
endif()
separate_arguments(pc_flags UNIX_COMMAND "${pc_flags}")
separate_arguments(extra UNIX_COMMAND "${EXTRA_FLAGS}")
run(c++ ${extra} "${SOURCE_DIR}/tests/install/consumer/main.cc" -o "${WORK_DIR}/pc-consumer" ${pc_flags})
run("${WORK_DIR}/pc-consumer")

# 3. The C ABI through smgcore_c.pc, as a C program: --static pulls the core
#    and the C++ runtime, which a link against only libsmgcore_c.a needs; where
#    the shared library is installed the linker takes it instead.
foreach(f include/smgcore/smgcore_c.h lib/libsmgcore_c.a lib/pkgconfig/smgcore_c.pc)
  if(NOT EXISTS "${prefix}/${f}")
    message(FATAL_ERROR "install is missing ${f}")
  endif()
endforeach()
execute_process(COMMAND pkg-config --cflags --libs --static smgcore_c OUTPUT_VARIABLE c_flags
                RESULT_VARIABLE rc OUTPUT_STRIP_TRAILING_WHITESPACE)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "pkg-config smgcore_c failed")
endif()
separate_arguments(c_flags UNIX_COMMAND "${c_flags}")
run(cc -std=c99 -pedantic -Werror ${extra} "${SOURCE_DIR}/tests/install/consumer/capi_main.c"
    -o "${WORK_DIR}/c-consumer" ${c_flags} "-Wl,-rpath,${prefix}/lib")
run("${WORK_DIR}/c-consumer")
