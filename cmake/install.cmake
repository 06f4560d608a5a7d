# kmem's install rules: the public headers with the generated kmem/config.h,
# the libraries as an exported CMake package (find_package(kmem CONFIG):
# kmem::core, kmem::freestanding, kmem::freestanding_<arch>, kmem::malloc),
# kmem.pc for pkg-config, the shipped data, the docs and the examples, and
# kmem-sim when the tools are built. docs/embedding.md says how to use them.
include(CMakePackageConfigHelpers)

set(KMEM_INSTALL_CMAKEDIR ${CMAKE_INSTALL_LIBDIR}/cmake/kmem CACHE STRING
    "Where kmem's CMake package files go (relative to the prefix)")

# Headers: include/kmem/ is the public API (the private headers stay beside
# their sources in src/), and the configuration the library was built with.
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/kmem DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
        COMPONENT kmem_development FILES_MATCHING PATTERN "*.h")
install(FILES ${KMEM_GENERATED_INCLUDE_DIR}/kmem/config.h DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/kmem
        COMPONENT kmem_development)

set(kmem_targets kmem_core kmem_core_freestanding)
if(TARGET kmem_malloc)
  list(APPEND kmem_targets kmem_malloc)
  install(FILES ${PROJECT_SOURCE_DIR}/tools/malloc/kmem_malloc.h DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
          COMPONENT kmem_development)
endif()
install(TARGETS ${kmem_targets} EXPORT kmemTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT kmem_development
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT kmem_runtime)
install(EXPORT kmemTargets NAMESPACE kmem:: DESTINATION ${KMEM_INSTALL_CMAKEDIR} FILE kmemTargets.cmake
        COMPONENT kmem_development)

# The cross-compiled freestanding archives (src/CMakeLists.txt builds them
# with custom commands, so their imported targets are written here).
set(KMEM_CROSS_TARGETS_CODE "")
foreach(arch ${KMEM_CROSS_ARCHIVES})
  install(FILES ${PROJECT_BINARY_DIR}/lib/libkmem-freestanding-${arch}.a DESTINATION ${CMAKE_INSTALL_LIBDIR}
          COMPONENT kmem_development)
  string(APPEND KMEM_CROSS_TARGETS_CODE
    "if(NOT TARGET kmem::freestanding_${arch})\n"
    "  add_library(kmem::freestanding_${arch} STATIC IMPORTED)\n"
    "  set_target_properties(kmem::freestanding_${arch} PROPERTIES\n"
    "    IMPORTED_LOCATION \"\${PACKAGE_PREFIX_DIR}/${CMAKE_INSTALL_LIBDIR}/libkmem-freestanding-${arch}.a\"\n"
    "    IMPORTED_LINK_INTERFACE_LANGUAGES C\n"
    "    INTERFACE_INCLUDE_DIRECTORIES \"\${PACKAGE_PREFIX_DIR}/${CMAKE_INSTALL_INCLUDEDIR}\")\n"
    "endif()\n")
endforeach()
set(KMEM_FREESTANDING_ARCHS ${KMEM_ARCH} ${KMEM_CROSS_ARCHIVES})

configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/kmemConfig.cmake.in
  ${PROJECT_BINARY_DIR}/cmake/kmemConfig.cmake
  INSTALL_DESTINATION ${KMEM_INSTALL_CMAKEDIR}
  PATH_VARS KMEM_INSTALL_DATADIR CMAKE_INSTALL_INCLUDEDIR)
# 0.x: a minor version may change the API.
write_basic_package_version_file(${PROJECT_BINARY_DIR}/cmake/kmemConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/cmake/kmemConfig.cmake ${PROJECT_BINARY_DIR}/cmake/kmemConfigVersion.cmake
        DESTINATION ${KMEM_INSTALL_CMAKEDIR} COMPONENT kmem_development)

# kmem.pc: the hosted library for pkg-config, relocatable (found relative to
# the .pc file, so `cmake --install --prefix P` anywhere works).
if(IS_ABSOLUTE "${CMAKE_INSTALL_LIBDIR}")
  set(KMEM_PC_PREFIX "${CMAKE_INSTALL_PREFIX}")
else()
  file(RELATIVE_PATH kmem_pc_up "/prefix/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "/prefix")
  string(REGEX REPLACE "/$" "" kmem_pc_up "${kmem_pc_up}")
  set(KMEM_PC_PREFIX "\${pcfiledir}/${kmem_pc_up}")
endif()
configure_file(${PROJECT_SOURCE_DIR}/cmake/kmem.pc.in ${PROJECT_BINARY_DIR}/cmake/kmem.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/cmake/kmem.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig
        COMPONENT kmem_development)

# The shipped data (firmware maps, device trees, the Linux boot log) and docs.
install(DIRECTORY ${PROJECT_SOURCE_DIR}/data/ DESTINATION ${KMEM_INSTALL_DATADIR} COMPONENT kmem_data)
install(FILES ${PROJECT_SOURCE_DIR}/README.md DESTINATION ${CMAKE_INSTALL_DOCDIR} COMPONENT kmem_docs)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/docs/ DESTINATION ${CMAKE_INSTALL_DOCDIR} COMPONENT kmem_docs)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/examples DESTINATION ${CMAKE_INSTALL_DOCDIR} COMPONENT kmem_docs)

if(TARGET kmem-sim)
  install(TARGETS kmem-sim RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT kmem_tools)
endif()
