# Helpers that declare the project's modules. One place decides how protos are
# generated and how a library, its tests and its benchmarks are declared.

set(RECEPTION_PROTO_ROOT ${CMAKE_SOURCE_DIR}/proto)
set(RECEPTION_GEN_DIR ${CMAKE_BINARY_DIR}/gen)
# The vendored googleapis protos (field behaviour annotations, error details).
set(RECEPTION_GOOGLEAPIS ${CMAKE_SOURCE_DIR}/third_party/googleapis)
file(MAKE_DIRECTORY ${RECEPTION_GEN_DIR})

# reception_proto_library(NAME
#   PROTOS <paths relative to IMPORT_ROOT>  [IMPORT_ROOT dir] [GRPC] [DEPS targets])
# Creates NAME (messages only) and, with GRPC, NAME_grpc (service stubs), so
# domain libraries can link messages without pulling in gRPC headers.
function(reception_proto_library NAME)
  cmake_parse_arguments(P "GRPC" "IMPORT_ROOT" "PROTOS;DEPS" ${ARGN})
  if(NOT P_IMPORT_ROOT)
    set(P_IMPORT_ROOT ${RECEPTION_PROTO_ROOT})
  endif()
  set(srcs)
  set(grpc_srcs)
  foreach(proto ${P_PROTOS})
    get_filename_component(dir ${proto} DIRECTORY)
    get_filename_component(stem ${proto} NAME_WE)
    set(base ${RECEPTION_GEN_DIR}/${dir}/${stem})
    add_custom_command(
      OUTPUT ${base}.pb.cc ${base}.pb.h
      COMMAND protobuf::protoc --cpp_out=${RECEPTION_GEN_DIR}
              -I${RECEPTION_PROTO_ROOT} -I${RECEPTION_GOOGLEAPIS} -I${P_IMPORT_ROOT}
              ${P_IMPORT_ROOT}/${proto}
      DEPENDS ${P_IMPORT_ROOT}/${proto} protobuf::protoc
      COMMENT "protoc ${proto}" VERBATIM)
    list(APPEND srcs ${base}.pb.cc)
    if(P_GRPC)
      add_custom_command(
        OUTPUT ${base}.grpc.pb.cc ${base}.grpc.pb.h
        COMMAND protobuf::protoc --grpc_out=${RECEPTION_GEN_DIR}
                --plugin=protoc-gen-grpc=$<TARGET_FILE:gRPC::grpc_cpp_plugin>
                -I${RECEPTION_PROTO_ROOT} -I${RECEPTION_GOOGLEAPIS} -I${P_IMPORT_ROOT}
                ${P_IMPORT_ROOT}/${proto}
        DEPENDS ${P_IMPORT_ROOT}/${proto} protobuf::protoc
        COMMENT "grpc ${proto}" VERBATIM)
      list(APPEND grpc_srcs ${base}.grpc.pb.cc)
    endif()
  endforeach()
  add_library(${NAME} STATIC ${srcs})
  target_include_directories(${NAME} PUBLIC ${RECEPTION_GEN_DIR})
  target_link_libraries(${NAME} PUBLIC protobuf::libprotobuf ${P_DEPS})
  target_compile_options(${NAME} PRIVATE -w)
  if(P_GRPC)
    add_library(${NAME}_grpc STATIC ${grpc_srcs})
    target_link_libraries(${NAME}_grpc PUBLIC ${NAME} gRPC::grpc++)
    target_compile_options(${NAME}_grpc PRIVATE -w)
  endif()
endfunction()

# reception_module(NAME SRCS ... DEPS ... [TESTS test.cc ...] [TEST_DEPS ...]
#                  [BENCHMARKS bench.cc ...])
# A library with its unit tests and benchmarks declared beside it.
function(reception_module NAME)
  cmake_parse_arguments(M "" "" "SRCS;DEPS;TESTS;TEST_DEPS;BENCHMARKS" ${ARGN})
  add_library(${NAME} STATIC ${M_SRCS})
  target_include_directories(${NAME} PUBLIC ${CMAKE_SOURCE_DIR})
  target_link_libraries(${NAME} PUBLIC ${M_DEPS})
  if(RECEPTION_BUILD_TESTS AND M_TESTS)
    foreach(t ${M_TESTS})
      get_filename_component(tname ${t} NAME_WE)
      add_executable(${tname} ${t})
      target_link_libraries(${tname} PRIVATE ${NAME} ${M_TEST_DEPS}
                            GTest::gtest GTest::gmock GTest::gtest_main)
      add_test(NAME ${tname} COMMAND ${tname})
      set_tests_properties(${tname} PROPERTIES LABELS unit TIMEOUT 300)
    endforeach()
  endif()
  if(RECEPTION_BUILD_BENCHMARKS AND M_BENCHMARKS)
    foreach(b ${M_BENCHMARKS})
      get_filename_component(bname ${b} NAME_WE)
      add_executable(${bname} ${b})
      target_link_libraries(${bname} PRIVATE ${NAME} benchmark::benchmark)
    endforeach()
  endif()
endfunction()
