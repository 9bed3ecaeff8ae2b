# cmake -DOUTPUT=file.cpp -DFRAGMENTS="a.config;b.config" -P embed_fragments.cmake
#
# Writes the source of builtin_fragments() (builtin_fragments.hpp): each
# fragment file's bytes as a string literal, so an installed ktstr-vmm
# carries the configuration it builds kernels with. Every byte is a \x
# escape: no character of a fragment can end the literal early.
set(body "")
set(entries "")
set(i 0)
string(REPEAT "[0-9a-f]" 64 line_of_hex)
foreach(f ${FRAGMENTS})
  file(READ ${f} hex HEX)
  string(LENGTH "${hex}" hex_len)
  math(EXPR size "${hex_len} / 2")
  # 32 bytes a line: a '|' after every 64 hex digits, then each byte an
  # escape, then each '|' the end of one literal and the start of the next.
  string(REGEX REPLACE "(${line_of_hex})" "\\1|" hex "${hex}")
  string(REGEX REPLACE "([0-9a-f][0-9a-f])" "\\\\x\\1" escaped "${hex}")
  string(REPLACE "|" "\"\n    \"" escaped "${escaped}")
  get_filename_component(name ${f} NAME)
  string(APPEND body "constexpr char fragment_${i}[] =\n    \"${escaped}\";\n")
  string(APPEND entries "    {\"${name}\", std::string_view(fragment_${i}, ${size})},\n")
  math(EXPR i "${i} + 1")
endforeach()
set(text "// Generated from vmm/kernel/config/ by embed_fragments.cmake; do not edit.
#include \"kernel_build/builtin_fragments.hpp\"

namespace ktstr::vmm::kernel_build {
namespace {

${body}
constexpr BuiltinFragment all[] = {
${entries}};

}  // namespace

std::span<const BuiltinFragment> builtin_fragments() { return all; }

}  // namespace ktstr::vmm::kernel_build
")
# Rewritten only when it changes, so an unchanged fragment recompiles nothing.
if(EXISTS ${OUTPUT})
  file(READ ${OUTPUT} old)
endif()
if(NOT "${old}" STREQUAL "${text}")
  file(WRITE ${OUTPUT} "${text}")
endif()
