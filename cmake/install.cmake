# The installed ferry package: the library layers as ferry::<layer>, their
# headers under include/ferry/<layer>/, the ferry executable, and a package
# config that finds, for the components asked for, only what they link.
# cli/, tests/, bench/ and fuzz/ are never installed.
include(CMakePackageConfigHelpers)

set(FERRY_INSTALLED_LAYERS protocol real sim views harness workloads)
foreach(optional testing tool)
  if(TARGET ferry_${optional})
    list(APPEND FERRY_INSTALLED_LAYERS ${optional})
  endif()
endforeach()
set(FERRY_INSTALLED_TARGETS)
foreach(layer IN LISTS FERRY_INSTALLED_LAYERS)
  list(APPEND FERRY_INSTALLED_TARGETS ferry_${layer})
endforeach()
if(TARGET ferry_rapidcheck)
  list(APPEND FERRY_INSTALLED_TARGETS ferry_rapidcheck)
endif()

install(TARGETS ${FERRY_INSTALLED_TARGETS}
        EXPORT ferryTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
# tool/ holds tool.h alone (its sources are cli/, never installed).
foreach(layer IN LISTS FERRY_INSTALLED_LAYERS)
  install(DIRECTORY ${PROJECT_SOURCE_DIR}/${layer}/
          DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/ferry/${layer}
          FILES_MATCHING PATTERN "*.h")
endforeach()
install(FILES ${FERRY_BUILD_INCLUDE_DIR}/ferry/version.h
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/ferry)

set(FERRY_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/ferry)
install(EXPORT ferryTargets NAMESPACE ferry:: DESTINATION ${FERRY_CMAKE_DIR})
configure_package_config_file(${CMAKE_CURRENT_LIST_DIR}/ferryConfig.cmake.in
                              ${PROJECT_BINARY_DIR}/ferryConfig.cmake
                              INSTALL_DESTINATION ${FERRY_CMAKE_DIR})
# 0.x: every minor version may break the API, so 0.1 satisfies only 0.1.
write_basic_package_version_file(${PROJECT_BINARY_DIR}/ferryConfigVersion.cmake
                                 COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/ferryConfig.cmake
              ${PROJECT_BINARY_DIR}/ferryConfigVersion.cmake
        DESTINATION ${FERRY_CMAKE_DIR})

if(TARGET ferry)
  install(TARGETS ferry RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
endif()
