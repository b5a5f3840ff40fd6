# find_package(rank_rerank) from an install prefix, plus a pkg-config file.
include(CMakePackageConfigHelpers)

install(TARGETS rank_rerank EXPORT rank_rerankTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY include/rank_rerank DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT rank_rerankTargets NAMESPACE rank_rerank::
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/rank_rerank)

configure_package_config_file(cmake/rank_rerankConfig.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/rank_rerankConfig.cmake
  INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/rank_rerank)
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/rank_rerankConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/rank_rerankConfig.cmake
              ${CMAKE_CURRENT_BINARY_DIR}/rank_rerankConfigVersion.cmake
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/rank_rerank)

# The .pc file finds its prefix relative to itself, so the install can move. The library is
# static by default, so the .pc file lists what a static link needs
# (pkg-config --static --libs rank_rerank).
# libcurl is named directly rather than through Requires.private: `pkg-config --static libcurl`
# would ask for static builds of all of curl's own dependencies, while the shared libcurl suffices.
set(RANK_RERANK_PC_LIBS_PRIVATE "${OpenMP_CXX_FLAGS} -lcurl")
if(RANK_RERANK_HAS_CUDA)
  string(APPEND RANK_RERANK_PC_LIBS_PRIVATE
         " ${CUDA_cudart_static_LIBRARY} -ldl -lrt -lpthread")
endif()
file(RELATIVE_PATH RANK_RERANK_PC_TO_PREFIX "${CMAKE_INSTALL_FULL_LIBDIR}/pkgconfig"
     "${CMAKE_INSTALL_PREFIX}")
configure_file(cmake/rank_rerank.pc.in ${CMAKE_CURRENT_BINARY_DIR}/rank_rerank.pc @ONLY)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/rank_rerank.pc
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
