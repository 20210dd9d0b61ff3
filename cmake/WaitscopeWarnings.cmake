# Warnings are errors on our own code only; generated code (protobuf, BPF
# skeletons) is compiled without them.
# -Wrestrict stays a warning: GCC 12 reports false positives inside
# std::string's operator+ at -O3 (GCC bug 105329), so Release builds would
# fail on correct code.
function(waitscope_target_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Werror -Wno-missing-field-initializers
                                           $<$<CXX_COMPILER_ID:GNU>:-Wno-error=restrict>)
endfunction()
