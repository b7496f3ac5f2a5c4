# Install rules: headers, libsmgcore.a, the CMake package (smgcore::smgcore)
# and smgcore.pc.
include(CMakePackageConfigHelpers)

install(DIRECTORY "${PROJECT_SOURCE_DIR}/include/smgcore"
        DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}"
        FILES_MATCHING PATTERN "*.h")
install(FILES "${PROJECT_BINARY_DIR}/include/smgcore/version.h"
        DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}/smgcore")

install(TARGETS smgcore EXPORT smgcoreTargets
        ARCHIVE DESTINATION "${CMAKE_INSTALL_LIBDIR}")

set(SMGCORE_CMAKE_DIR "${CMAKE_INSTALL_LIBDIR}/cmake/smgcore")
install(EXPORT smgcoreTargets NAMESPACE smgcore:: DESTINATION "${SMGCORE_CMAKE_DIR}")
configure_package_config_file(
  "${PROJECT_SOURCE_DIR}/cmake/smgcoreConfig.cmake.in"
  "${PROJECT_BINARY_DIR}/smgcoreConfig.cmake"
  INSTALL_DESTINATION "${SMGCORE_CMAKE_DIR}")
write_basic_package_version_file(
  "${PROJECT_BINARY_DIR}/smgcoreConfigVersion.cmake"
  COMPATIBILITY SameMajorVersion)
install(FILES "${PROJECT_BINARY_DIR}/smgcoreConfig.cmake"
              "${PROJECT_BINARY_DIR}/smgcoreConfigVersion.cmake"
        DESTINATION "${SMGCORE_CMAKE_DIR}")

# The .pc file finds the prefix relative to itself, so the installed tree can move.
file(RELATIVE_PATH SMGCORE_PC_TO_PREFIX "/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "/")
string(REGEX REPLACE "/$" "" SMGCORE_PC_TO_PREFIX "${SMGCORE_PC_TO_PREFIX}")
configure_file("${PROJECT_SOURCE_DIR}/cmake/smgcore.pc.in"
               "${PROJECT_BINARY_DIR}/smgcore.pc" @ONLY)
install(FILES "${PROJECT_BINARY_DIR}/smgcore.pc"
        DESTINATION "${CMAKE_INSTALL_LIBDIR}/pkgconfig")

# The C ABI: its header, libsmgcore_c.a (exported as smgcore::capi), the
# shared library where it is built, and smgcore_c.pc.
install(FILES "${PROJECT_SOURCE_DIR}/capi/include/smgcore/smgcore_c.h"
        DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}/smgcore")
install(TARGETS smgcore_c EXPORT smgcoreTargets
        ARCHIVE DESTINATION "${CMAKE_INSTALL_LIBDIR}")
if(TARGET smgcore_c_shared)
  install(TARGETS smgcore_c_shared
          LIBRARY DESTINATION "${CMAKE_INSTALL_LIBDIR}" NAMELINK_COMPONENT Development)
endif()
configure_file("${PROJECT_SOURCE_DIR}/cmake/smgcore_c.pc.in"
               "${PROJECT_BINARY_DIR}/smgcore_c.pc" @ONLY)
install(FILES "${PROJECT_BINARY_DIR}/smgcore_c.pc"
        DESTINATION "${CMAKE_INSTALL_LIBDIR}/pkgconfig")
