# cmake/seqboat_extra_tests.cmake: the CTest tests of what is built on top of
# the library: an outside project against the installed package, and the
# Python package (pip install ./python into a virtual environment, then its
# pytest suite). The examples register their own tests (examples/).
if(SEQBOAT_INSTALL)
  add_test(NAME package_find_package
           COMMAND ${CMAKE_COMMAND} -DBUILD_DIR=${CMAKE_BINARY_DIR} -DWORK_DIR=${CMAKE_BINARY_DIR}/package_test
                   -DCONSUMER_DIR=${PROJECT_SOURCE_DIR}/tests/package -DCXX=${CMAKE_CXX_COMPILER}
                   -DCUDA_BUILT=${SEQBOAT_WITH_CUDA} -P ${PROJECT_SOURCE_DIR}/tests/package/run_test.cmake)
  set_tests_properties(package_find_package PROPERTIES TIMEOUT 600)
endif()

if(SEQBOAT_PYTHON_TESTS)
  set(SEQBOAT_PY_DIR ${CMAKE_BINARY_DIR}/python)
  add_test(NAME python_pip_install COMMAND bash ${PROJECT_SOURCE_DIR}/python/tests/pip_install.sh ${SEQBOAT_PY_DIR})
  # The first run compiles the library again (CPU only, position-independent) into the extension.
  set_tests_properties(python_pip_install PROPERTIES FIXTURES_SETUP python_package TIMEOUT 2400)
  add_test(NAME python_pytest COMMAND ${SEQBOAT_PY_DIR}/venv/bin/python -m pytest -q -p no:cacheprovider
                                      ${PROJECT_SOURCE_DIR}/python/tests)
  set_tests_properties(python_pytest PROPERTIES FIXTURES_REQUIRED python_package)
endif()
