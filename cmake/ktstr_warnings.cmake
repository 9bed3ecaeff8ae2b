# ktstr_set_warnings(target): the project's warning set, errors in CI.
function(ktstr_set_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow
    -Wconversion -Wno-sign-conversion -Wnon-virtual-dtor -Wcast-align -Wimplicit-fallthrough)
  if(KTSTR_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()
