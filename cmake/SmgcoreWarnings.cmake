# smgcore_set_warnings(<target>): the project's warning set, -Werror on demand,
# and the sanitizer flags when SMGCORE_SANITIZE is on.
# GCC 12 flags designated initializers that omit fields (-Wmissing-field-initializers);
# that is how option structs are meant to be filled, so the warning is off.
add_library(smgcore_build_flags INTERFACE)
target_compile_options(smgcore_build_flags INTERFACE
  $<$<COMPILE_LANG_AND_ID:CXX,GNU,Clang>:-Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wconversion -Wno-sign-conversion -Wno-missing-field-initializers>
  $<$<COMPILE_LANG_AND_ID:C,GNU,Clang>:-Wall -Wextra -Wpedantic>
  $<$<BOOL:${SMGCORE_WERROR}>:-Werror>)
if(SMGCORE_SANITIZE)
  target_compile_options(smgcore_build_flags INTERFACE
    -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer)
  target_link_options(smgcore_build_flags INTERFACE -fsanitize=address,undefined)
endif()

function(smgcore_set_warnings target)
  target_link_libraries(${target} PRIVATE $<BUILD_INTERFACE:smgcore_build_flags>)
endfunction()
