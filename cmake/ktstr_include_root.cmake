# ktstr_include_root(TARGET FOLDER <path under vmm/> [HEADERS h...] [SUBDIRS d...])
#
# Gives TARGET an include directory of its own in the build tree holding
# only its headers, as <FOLDER>/<header> (symbolic links to the sources);
# without HEADERS, every .hpp of FOLDER and of the SUBDIRS named. A vmm
# library's headers are then found only by the targets that link it, so
# including across layers without linking ("initramfs/ includes kvm/")
# fails to compile: the build enforces who may include whom
# (docs/architecture.md).
function(ktstr_include_root target)
  cmake_parse_arguments(R "" "FOLDER" "HEADERS;SUBDIRS" ${ARGN})
  set(src ${PROJECT_SOURCE_DIR}/vmm/${R_FOLDER})
  set(root ${PROJECT_BINARY_DIR}/include-roots/${target})
  set(headers ${R_HEADERS})
  if(NOT headers)
    file(GLOB headers RELATIVE ${src} CONFIGURE_DEPENDS ${src}/*.hpp)
    foreach(d ${R_SUBDIRS})
      file(GLOB sub RELATIVE ${src} CONFIGURE_DEPENDS ${src}/${d}/*.hpp)
      list(APPEND headers ${sub})
    endforeach()
  endif()
  file(REMOVE_RECURSE ${root})
  foreach(h ${headers})
    if(NOT EXISTS ${src}/${h})
      message(FATAL_ERROR "ktstr_include_root(${target}): no ${src}/${h}")
    endif()
    get_filename_component(dir ${root}/${R_FOLDER}/${h} DIRECTORY)
    file(MAKE_DIRECTORY ${dir})
    file(CREATE_LINK ${src}/${h} ${root}/${R_FOLDER}/${h} SYMBOLIC)
  endforeach()
  get_target_property(type ${target} TYPE)
  if(type STREQUAL "INTERFACE_LIBRARY")
    target_include_directories(${target} INTERFACE ${root})
  elseif(type STREQUAL "EXECUTABLE")
    target_include_directories(${target} PRIVATE ${root})
  else()
    target_include_directories(${target} PUBLIC ${root})
  endif()
endfunction()
