# Cross-compiling for aarch64 on a Debian x86_64 host (docs/arm64.md):
# Debian's cross compiler, the arm64 libraries that scripts/setup_arm64.sh
# co-installs through multiarch (/usr/lib/aarch64-linux-gnu, headers in
# /usr/include and /usr/include/aarch64-linux-gnu), and libfdt from the
# sysroot that script unpacks it into (it cannot be co-installed).
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)
# Makes find_library and find_package look in lib/aarch64-linux-gnu.
set(CMAKE_LIBRARY_ARCHITECTURE aarch64-linux-gnu)

if(NOT KTSTR_ARM64_SYSROOT)
  if(DEFINED ENV{KTSTR_ARM64_SYSROOT})
    set(KTSTR_ARM64_SYSROOT $ENV{KTSTR_ARM64_SYSROOT})
  elseif(DEFINED ENV{XDG_CACHE_HOME})
    set(KTSTR_ARM64_SYSROOT $ENV{XDG_CACHE_HOME}/ktstr/arm64-sysroot)
  else()
    set(KTSTR_ARM64_SYSROOT $ENV{HOME}/.cache/ktstr/arm64-sysroot)
  endif()
endif()
set(KTSTR_ARM64_SYSROOT ${KTSTR_ARM64_SYSROOT} CACHE PATH "Where setup_arm64.sh unpacked libfdt and busybox for arm64")
# try_compile projects re-read this file without the cache.
list(APPEND CMAKE_TRY_COMPILE_PLATFORM_VARIABLES KTSTR_ARM64_SYSROOT)

# The sysroot first, so its libfdt wins; then / for the multiarch packages.
# The host's own libraries sit in lib/x86_64-linux-gnu, which is never
# searched for this architecture; arch-independent package configs
# (/usr/share/cmake, /usr/lib/cmake: CLI11, nlohmann_json, Catch2) are found.
set(CMAKE_FIND_ROOT_PATH ${KTSTR_ARM64_SYSROOT} /)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# pkg-config (liblzma, libzstd, OpenSSL) reads the arm64 .pc files only;
# Debian has no aarch64-linux-gnu-pkg-config without extra packages.
set(ENV{PKG_CONFIG_LIBDIR} /usr/lib/aarch64-linux-gnu/pkgconfig:/usr/share/pkgconfig)
set(ENV{PKG_CONFIG_PATH} "")
