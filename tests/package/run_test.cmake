# tests/package/run_test.cmake (cmake -P): installs the build into a fresh
# prefix under WORK_DIR, configures and builds tests/package/ against it with
# find_package(seqboat), and runs the program. Fails, naming the step, when
# any step fails. Variables: BUILD_DIR, WORK_DIR, CONSUMER_DIR, CXX, CUDA_BUILT.
foreach(var BUILD_DIR WORK_DIR CONSUMER_DIR CXX CUDA_BUILT)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "run_test.cmake: -D${var}=... is required")
  endif()
endforeach()
file(REMOVE_RECURSE ${WORK_DIR})
set(prefix ${WORK_DIR}/prefix)

function(step name)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  message("${out}${err}")
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "package test: ${name} failed (${rc})")
  endif()
  set(step_output "${out}" PARENT_SCOPE)
endfunction()

step("cmake --install" ${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${prefix})
foreach(path include/seqboat/nn/seqboat.h include/seqboat/kernels/ssm.h lib/cmake/seqboat/seqboatConfig.cmake)
  if(NOT EXISTS ${prefix}/${path})
    message(FATAL_ERROR "package test: the install has no ${path}")
  endif()
endforeach()
if(CUDA_BUILT AND NOT EXISTS ${prefix}/lib/libseqboat_cuda.a)
  message(FATAL_ERROR "package test: the build has the CUDA backend but the install has no lib/libseqboat_cuda.a")
endif()
# Only the prefix: the consumer cannot see the source tree.
step("configuring the outside project" ${CMAKE_COMMAND} -S ${CONSUMER_DIR} -B ${WORK_DIR}/build
     -DCMAKE_PREFIX_PATH=${prefix} -DCMAKE_CXX_COMPILER=${CXX} -DCMAKE_BUILD_TYPE=Release)
step("building the outside project" ${CMAKE_COMMAND} --build ${WORK_DIR}/build)
step("running the outside program" ${WORK_DIR}/build/consumer)
if(NOT step_output MATCHES "consumer: ok")
  message(FATAL_ERROR "package test: the outside program did not print 'consumer: ok'")
endif()
