# cmake/seqboat_install.cmake: what `cmake --install build --prefix P` puts
# under P, so that another CMake project can use seqboat with
#
#   find_package(seqboat REQUIRED)            # CMAKE_PREFIX_PATH=P
#   target_link_libraries(app PRIVATE seqboat::seqboat)
#
#   P/include/seqboat/<layer>/*.h   the headers, included as "nn/seqboat.h" etc.
#   P/lib/libseqboat_*.a            one static library per layer
#   P/lib/cmake/seqboat/            seqboatConfig.cmake and the exported targets
#   P/bin/seqboat                   the command-line tool
#
# Exported targets: seqboat::seqboat (every layer, C++20, the include folder;
# the in-tree seqboat_core without the source tree), one per layer
# (seqboat::tensor ... seqboat::train), and seqboat::cuda, the CUDA backend,
# when this build has it (seqboat::seqboat links it then). seqboat_MPI says
# whether seqboat::dist was built with MPI (then the package finds MPI too).
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(SEQBOAT_INSTALL_INCLUDEDIR ${CMAKE_INSTALL_INCLUDEDIR}/seqboat)
set(SEQBOAT_INSTALL_CMAKEDIR ${CMAKE_INSTALL_LIBDIR}/cmake/seqboat)

add_library(seqboat_package INTERFACE)
target_link_libraries(seqboat_package INTERFACE seqboat_train)
target_compile_features(seqboat_package INTERFACE cxx_std_20)
target_include_directories(seqboat_package INTERFACE $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}>
                                                     $<INSTALL_INTERFACE:${SEQBOAT_INSTALL_INCLUDEDIR}>)
add_library(seqboat::seqboat ALIAS seqboat_package)

set(SEQBOAT_EXPORTED seqboat_package seqboat_options seqboat_device seqboat_tensor seqboat_cpu seqboat_autograd
                     seqboat_ops seqboat_nn seqboat_data seqboat_dist seqboat_train)
if(TARGET seqboat_cuda)
  list(APPEND SEQBOAT_EXPORTED seqboat_cuda)
endif()
foreach(target ${SEQBOAT_EXPORTED})
  string(REPLACE "seqboat_" "" short ${target})  # seqboat_nn -> seqboat::nn
  set_target_properties(${target} PROPERTIES EXPORT_NAME ${short})
endforeach()
set_target_properties(seqboat_package PROPERTIES EXPORT_NAME seqboat)

install(TARGETS ${SEQBOAT_EXPORTED} EXPORT seqboatTargets ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(TARGETS seqboat RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
# The headers of the layers a program may include (cpu/ and cuda/ are backends
# behind ops/: no installed header includes them).
foreach(layer tensor kernels autograd ops nn data dist train)
  install(DIRECTORY ${layer}/ DESTINATION ${SEQBOAT_INSTALL_INCLUDEDIR}/${layer} FILES_MATCHING PATTERN "*.h")
endforeach()
install(EXPORT seqboatTargets NAMESPACE seqboat:: DESTINATION ${SEQBOAT_INSTALL_CMAKEDIR})
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/seqboatConfig.cmake.in
                              ${CMAKE_BINARY_DIR}/cmake/seqboatConfig.cmake INSTALL_DESTINATION ${SEQBOAT_INSTALL_CMAKEDIR})
install(FILES ${CMAKE_BINARY_DIR}/cmake/seqboatConfig.cmake DESTINATION ${SEQBOAT_INSTALL_CMAKEDIR})
