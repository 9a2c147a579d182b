# Extracts the C++ example from README.md, compiles it against the source tree and runs it on itself, so the
# README's API example cannot drift from the code.
file(READ ${SOURCE_DIR}/README.md readme)
string(REGEX MATCH "```cpp\n(.*)\n```\n\nRules the library keeps" found "${readme}")
if(NOT found)
  message(FATAL_ERROR "README.md has no ```cpp example")
endif()
file(MAKE_DIRECTORY ${WORK_DIR})
file(WRITE ${WORK_DIR}/readme_example.cpp "${CMAKE_MATCH_1}\n")
set(gsl_flags)
foreach(dir IN LISTS GSL_INCLUDE_DIRS)
  list(APPEND gsl_flags -I${dir})
endforeach()
execute_process(COMMAND ${CXX} -std=c++20 -Wall -Wextra -Werror -I${SOURCE_DIR}/include ${gsl_flags}
                  ${WORK_DIR}/readme_example.cpp -o ${WORK_DIR}/readme_example
  RESULT_VARIABLE rc ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "README example does not compile:\n${err}")
endif()
execute_process(COMMAND ${WORK_DIR}/readme_example ${WORK_DIR}/readme_example RESULT_VARIABLE rc OUTPUT_VARIABLE out)
if(NOT rc EQUAL 0 OR NOT out MATCHES "printf")
  message(FATAL_ERROR "README example failed on its own binary (${rc}):\n${out}")
endif()
