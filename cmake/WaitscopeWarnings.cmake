# Warnings are errors on our own code only; generated code (protobuf, BPF
# skeletons) is compiled without them.
function(waitscope_target_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Werror -Wno-missing-field-initializers)
endfunction()
