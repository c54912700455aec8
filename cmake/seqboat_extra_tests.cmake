# cmake/seqboat_extra_tests.cmake: the CTest tests of what is built on top of
# the library: an outside project against the installed package. The
# examples register their own tests (examples/).
if(SEQBOAT_INSTALL)
  add_test(NAME package_find_package
           COMMAND ${CMAKE_COMMAND} -DBUILD_DIR=${CMAKE_BINARY_DIR} -DWORK_DIR=${CMAKE_BINARY_DIR}/package_test
                   -DCONSUMER_DIR=${PROJECT_SOURCE_DIR}/tests/package -DCXX=${CMAKE_CXX_COMPILER}
                   -DCUDA_BUILT=${SEQBOAT_WITH_CUDA} -P ${PROJECT_SOURCE_DIR}/tests/package/run_test.cmake)
  set_tests_properties(package_find_package PROPERTIES TIMEOUT 600)
endif()
