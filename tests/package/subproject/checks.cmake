# ferry as a subproject (scripts/package_test.sh configures it both ways; it
# builds nothing): the library targets are there under their package names,
# ferry's tests and benchmarks are not.
foreach(target ferry::protocol ferry::real ferry::sim ferry::views ferry::harness
               ferry::workloads ferry::testing)
  if(NOT TARGET ${target})
    message(FATAL_ERROR "${target} is missing")
  endif()
endforeach()
foreach(target ferry_sim_tests ferry_bench)
  if(TARGET ${target})
    message(FATAL_ERROR "${target} is built although ferry is a subproject")
  endif()
endforeach()
