# Installs the built project into a scratch prefix, then configures, builds and runs the consumers: one with
# find_package(elfsieve CONFIG REQUIRED), one with add_subdirectory of the source tree, and one with
# add_subdirectory and ELFSIEVE_BUILD_EXAMPLES=ON, which must build (and not install) elfsieve's tools.
foreach(var SOURCE_DIR BUILD_DIR WORK_DIR CXX GENERATOR LIBDIR)  # TOOLS: bin/<tool> paths, may be empty
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "install_smoke.cmake needs -D${var}=...")
  endif()
endforeach()

function(run)
  execute_process(COMMAND ${ARGV} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "failed (${rc}): ${ARGV}\n${out}")
  endif()
endfunction()

string(REPLACE ":" ";" TOOLS "${TOOLS}")
file(REMOVE_RECURSE ${WORK_DIR})
set(prefix ${WORK_DIR}/prefix)
run(${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${prefix})

foreach(expected
    include/elfsieve/elfsieve.hpp
    ${LIBDIR}/cmake/elfsieve/elfsieveConfig.cmake
    ${LIBDIR}/cmake/elfsieve/elfsieveConfigVersion.cmake
    ${LIBDIR}/pkgconfig/elfsieve.pc
    ${TOOLS})
  if(NOT EXISTS ${prefix}/${expected})
    message(FATAL_ERROR "install did not produce ${expected}")
  endif()
endforeach()

foreach(mode find_package add_subdirectory)
  set(build ${WORK_DIR}/consumer-${mode})
  run(${CMAKE_COMMAND} -S ${SOURCE_DIR}/tests/consumer -B ${build} -G ${GENERATOR}
      -DCMAKE_CXX_COMPILER=${CXX} -DCONSUMER_MODE=${mode} -DELFSIEVE_SOURCE=${SOURCE_DIR}
      -DCMAKE_PREFIX_PATH=${prefix})
  run(${CMAKE_COMMAND} --build ${build})
  # A consumer builds nothing of elfsieve's own: no tests, no tools.
  if(EXISTS ${build}/bin/elfsieve-nm OR EXISTS ${build}/elfsieve/bin/elfsieve-nm)
    message(FATAL_ERROR "${mode} consumer built elfsieve's tools")
  endif()
  file(GLOB_RECURSE leaked ${build}/*elfsieve_tests*)
  if(leaked)
    message(FATAL_ERROR "${mode} consumer built elfsieve's tests: ${leaked}")
  endif()
  run(${build}/consumer ${build}/consumer)
endforeach()

set(build ${WORK_DIR}/consumer-with-tools)
run(${CMAKE_COMMAND} -S ${SOURCE_DIR}/tests/consumer -B ${build} -G ${GENERATOR}
    -DCMAKE_CXX_COMPILER=${CXX} -DCONSUMER_MODE=add_subdirectory -DELFSIEVE_SOURCE=${SOURCE_DIR}
    -DELFSIEVE_BUILD_EXAMPLES=ON)
run(${CMAKE_COMMAND} --build ${build})
foreach(tool elfsieve-nm elfsieve-strip elfsieve-undefs elfsieve-fill elfsieve-kallsyms elfsieve-symvers)
  file(GLOB_RECURSE built ${build}/*/${tool})
  if(NOT built)
    message(FATAL_ERROR "add_subdirectory consumer with ELFSIEVE_BUILD_EXAMPLES=ON did not build ${tool}")
  endif()
  list(GET built 0 built)
  run(${built} --version)
endforeach()
run(${CMAKE_COMMAND} --install ${build} --prefix ${WORK_DIR}/consumer-with-tools-prefix)
if(EXISTS ${WORK_DIR}/consumer-with-tools-prefix/bin/elfsieve-nm)
  message(FATAL_ERROR "a consumer's install installed elfsieve's tools (ELFSIEVE_INSTALL is off there)")
endif()

# pkg-config consumer: compile and run the same program with only the flags the .pc file gives.
find_program(PKG_CONFIG NAMES pkg-config pkgconf REQUIRED)
execute_process(
  COMMAND ${CMAKE_COMMAND} -E env PKG_CONFIG_PATH=${prefix}/${LIBDIR}/pkgconfig
          ${PKG_CONFIG} --cflags elfsieve
  RESULT_VARIABLE rc OUTPUT_VARIABLE cflags OUTPUT_STRIP_TRAILING_WHITESPACE)
if(NOT rc EQUAL 0 OR NOT cflags MATCHES "^-I${prefix}/[^ ]*include")
  message(FATAL_ERROR "pkg-config --cflags elfsieve gave '${cflags}' (${rc})")
endif()
separate_arguments(cflags UNIX_COMMAND "${cflags}")
set(pc_consumer ${WORK_DIR}/consumer-pkg-config)
if(cflags MATCHES "-std=")
  message(FATAL_ERROR "pkg-config --cflags elfsieve imposes a language standard: ${cflags}")
endif()
run(${CXX} -std=c++20 ${cflags} ${SOURCE_DIR}/tests/consumer/main.cpp -o ${pc_consumer})
run(${pc_consumer} ${pc_consumer})
message(STATUS "install smoke test passed")
