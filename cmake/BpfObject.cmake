# waitscope_bpf_skeleton(NAME SOURCE <file.bpf.c>)
#
# Compiles one BPF program family with clang (-target bpf, CO-RE, BTF) and
# generates its libbpf skeleton with `bpftool gen skeleton`. Creates an
# INTERFACE target NAME_skel whose include directory holds NAME.skel.h.
# Header dependencies come from clang's -MD depfile, so editing a shared
# header rebuilds the object (hand-kept header lists go stale).

find_program(BPF_CLANG NAMES clang clang-16 clang-15 clang-14 REQUIRED)
find_program(BPFTOOL NAMES bpftool PATHS /usr/sbin /sbin REQUIRED)

if(CMAKE_SYSTEM_PROCESSOR MATCHES "x86_64|amd64")
  set(BPF_TARGET_ARCH x86)
elseif(CMAKE_SYSTEM_PROCESSOR MATCHES "aarch64|arm64")
  set(BPF_TARGET_ARCH arm64)
else()
  message(FATAL_ERROR "waitscope: unsupported architecture ${CMAKE_SYSTEM_PROCESSOR}")
endif()

# vmlinux.h: generated from the build machine's kernel BTF. CO-RE relocations
# make the object portable to other kernels with BTF; the header only has to
# declare the types we touch.
set(WAITSCOPE_VMLINUX_DIR ${CMAKE_BINARY_DIR}/vmlinux)
set(WAITSCOPE_VMLINUX_BTF /sys/kernel/btf/vmlinux CACHE FILEPATH "Kernel BTF used to generate vmlinux.h")
add_custom_command(
  OUTPUT ${WAITSCOPE_VMLINUX_DIR}/vmlinux.h ${WAITSCOPE_VMLINUX_DIR}/vmlinux_features.h
  COMMAND ${CMAKE_COMMAND} -E make_directory ${WAITSCOPE_VMLINUX_DIR}
  COMMAND ${BPFTOOL} btf dump file ${WAITSCOPE_VMLINUX_BTF} format c > ${WAITSCOPE_VMLINUX_DIR}/vmlinux.h.tmp
  COMMAND ${CMAKE_COMMAND} -E rename ${WAITSCOPE_VMLINUX_DIR}/vmlinux.h.tmp ${WAITSCOPE_VMLINUX_DIR}/vmlinux.h
  # Types newer kernels added that the BPF code names: it declares them itself
  # when this kernel's BTF lacks them (the programs that use them then fail to
  # load there, and the loader falls back to another hook flavour).
  COMMAND sh -c "if grep -q '^struct bpf_task_work {' \"$1/vmlinux.h\"; then echo '#define WS_HAVE_BPF_TASK_WORK 1'; fi > \"$1/vmlinux_features.h\"" sh ${WAITSCOPE_VMLINUX_DIR}
  COMMENT "Generating vmlinux.h from ${WAITSCOPE_VMLINUX_BTF}"
  VERBATIM)
add_custom_target(waitscope_vmlinux DEPENDS ${WAITSCOPE_VMLINUX_DIR}/vmlinux.h)

function(waitscope_bpf_skeleton name)
  cmake_parse_arguments(ARG "" "SOURCE" "" ${ARGN})
  set(src ${CMAKE_CURRENT_SOURCE_DIR}/${ARG_SOURCE})
  set(obj ${CMAKE_CURRENT_BINARY_DIR}/${name}.bpf.o)
  set(dep ${CMAKE_CURRENT_BINARY_DIR}/${name}.bpf.d)
  set(skel_dir ${CMAKE_CURRENT_BINARY_DIR}/skel)
  set(skel ${skel_dir}/${name}.skel.h)

  add_custom_command(
    OUTPUT ${obj}
    COMMAND ${BPF_CLANG} -g -O2 -target bpf -D__TARGET_ARCH_${BPF_TARGET_ARCH}
            -Wall -Werror -Wno-unused-function
            -I${WAITSCOPE_VMLINUX_DIR} -I${CMAKE_SOURCE_DIR}/include -I${CMAKE_CURRENT_SOURCE_DIR}
            -MD -MF ${dep} -c ${src} -o ${obj}
    DEPFILE ${dep}
    DEPENDS ${src} ${WAITSCOPE_VMLINUX_DIR}/vmlinux.h ${WAITSCOPE_VMLINUX_DIR}/vmlinux_features.h
    COMMENT "BPF: compiling ${ARG_SOURCE}"
    VERBATIM)
  add_custom_command(
    OUTPUT ${skel}
    COMMAND ${CMAKE_COMMAND} -E make_directory ${skel_dir}
    COMMAND ${BPFTOOL} gen skeleton ${obj} name ${name}_bpf > ${skel}.tmp
    COMMAND ${CMAKE_COMMAND} -E rename ${skel}.tmp ${skel}
    DEPENDS ${obj}
    COMMENT "BPF: generating skeleton ${name}.skel.h"
    VERBATIM)
  add_custom_target(${name}_skel_gen DEPENDS ${skel})
  add_library(${name}_skel INTERFACE)
  add_dependencies(${name}_skel ${name}_skel_gen)
  target_include_directories(${name}_skel INTERFACE ${skel_dir})
  target_link_libraries(${name}_skel INTERFACE PkgConfig::LIBBPF PkgConfig::LIBELF ZLIB::ZLIB)
endfunction()
