# Runs README.md's install command as written (only its --prefix replaced by a scratch directory), from a directory
# holding a build/release configured and built the way scripts/demo.sh does it, then checks that the five tools and
# the CMake package are installed. A README that names another build tree, or a demo that builds fewer tools, fails.
foreach(var SOURCE_DIR WORK_DIR GENERATOR CXX)  # LAUNCHER: a compiler launcher such as ccache, may be empty
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "readme_install.cmake needs -D${var}=...")
  endif()
endforeach()

function(run)
  execute_process(COMMAND ${ARGV} WORKING_DIRECTORY ${WORK_DIR} RESULT_VARIABLE rc OUTPUT_VARIABLE out
    ERROR_VARIABLE out)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "failed (${rc}): ${ARGV}\n${out}")
  endif()
endfunction()

# Every install command the README gives must be the same one.
file(READ ${SOURCE_DIR}/README.md readme)
string(REGEX MATCHALL "cmake --install [^`\n]*" commands "${readme}")
if(NOT commands)
  message(FATAL_ERROR "README.md gives no `cmake --install` command")
endif()
list(GET commands 0 command)
foreach(other IN LISTS commands)
  if(NOT other STREQUAL command)
    message(FATAL_ERROR "README.md gives two install commands: '${command}' and '${other}'")
  endif()
endforeach()
separate_arguments(words UNIX_COMMAND "${command}")
list(LENGTH words n)
math(EXPR last "${n} - 1")
math(EXPR before_last "${n} - 2")
list(GET words ${before_last} prefix_option)
if(n LESS 4 OR NOT prefix_option STREQUAL "--prefix")
  message(FATAL_ERROR "README.md's install command '${command}' does not end in --prefix DIR")
endif()

# The build tree the demo makes: the same configure options as scripts/demo.sh, which must still use them.
set(demo_configure "-B build/release -G Ninja -DCMAKE_BUILD_TYPE=Release -DELFSIEVE_BUILD_TESTS=OFF")
file(READ ${SOURCE_DIR}/scripts/demo.sh demo)
string(FIND "${demo}" "${demo_configure}" found)
if(found EQUAL -1)
  message(FATAL_ERROR "scripts/demo.sh no longer configures with '${demo_configure}': update this test")
endif()
file(REMOVE_RECURSE ${WORK_DIR})
file(MAKE_DIRECTORY ${WORK_DIR})
set(launcher)
if(LAUNCHER)
  set(launcher -DCMAKE_CXX_COMPILER_LAUNCHER=${LAUNCHER})
endif()
run(${CMAKE_COMMAND} -S ${SOURCE_DIR} -B build/release -G ${GENERATOR} -DCMAKE_BUILD_TYPE=Release
  -DELFSIEVE_BUILD_TESTS=OFF -DCMAKE_CXX_COMPILER=${CXX} ${launcher})
run(${CMAKE_COMMAND} --build build/release)  # the demo's build command: every default target

# The command as written, from the directory that holds build/release, with `cmake` this CMake and the prefix ours.
set(prefix ${WORK_DIR}/prefix)
list(REMOVE_AT words ${last})
list(REMOVE_AT words 0)
if(NOT command MATCHES "^cmake ")
  message(FATAL_ERROR "README.md's install command '${command}' does not start with cmake")
endif()
run(${CMAKE_COMMAND} ${words} ${prefix})

foreach(tool elfsieve-nm elfsieve-strip elfsieve-undefs elfsieve-fill elfsieve-kallsyms elfsieve-symvers)
  if(NOT EXISTS ${prefix}/bin/${tool})
    message(FATAL_ERROR "'${command}' did not install bin/${tool}")
  endif()
  run(${prefix}/bin/${tool} --version)
endforeach()
foreach(expected
    include/elfsieve/elfsieve.hpp
    lib/cmake/elfsieve/elfsieveConfig.cmake
    lib/cmake/elfsieve/elfsieveConfigVersion.cmake
    lib/cmake/elfsieve/elfsieveTargets.cmake)
  if(NOT EXISTS ${prefix}/${expected})
    message(FATAL_ERROR "'${command}' did not install ${expected}")
  endif()
endforeach()
message(STATUS "README install command '${command}' installed the five tools and the package")
