# SPDX-License-Identifier: Apache-2.0
# Shared compile settings for every diag target.

function(diag_enable_warnings tgt)
    target_compile_options(${tgt} PRIVATE -Wall -Wextra -Wpedantic -Wconversion -Wsign-conversion
        -Wshadow -Wformat=2 -Wnon-virtual-dtor -Wold-style-cast -Wcast-qual -Wundef)
    # GCC 12 at -O3 reports -Wrestrict inside libstdc++ for `"literal" + std::string` (GCC bug
    # 105329, a false positive); with -Werror it would break the release preset.
    if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
        target_compile_options(${tgt} PRIVATE -Wno-restrict)
    endif()
    if(DIAG_WERROR)
        target_compile_options(${tgt} PRIVATE -Werror)
    endif()
endfunction()

function(diag_enable_sanitizers tgt)
    if(DIAG_TSAN)
        target_compile_options(${tgt} PRIVATE -fsanitize=thread -fno-omit-frame-pointer)
        target_link_options(${tgt} PRIVATE -fsanitize=thread)
    elseif(DIAG_SANITIZE)
        target_compile_options(${tgt} PRIVATE -fsanitize=address,undefined -fno-sanitize-recover=all
            -fno-omit-frame-pointer)
        target_link_options(${tgt} PRIVATE -fsanitize=address,undefined)
    endif()
endfunction()

# diag_harden(tgt [STATIC_PIE]): STATIC_PIE links the executable as a static PIE (ASLR kept).
function(diag_harden tgt)
    cmake_parse_arguments(PARSE_ARGV 1 arg "STATIC_PIE" "" "")
    if(DIAG_HARDEN AND NOT DIAG_SANITIZE AND NOT DIAG_FUZZ)
        target_compile_options(${tgt} PRIVATE -fstack-protector-strong -fstack-clash-protection -fPIE)
        # Control-flow protection has a flag per architecture: CET on x86, BTI and PAC on arm64.
        # Only that flag depends on the target; the rest of the hardening applies everywhere.
        if(CMAKE_SYSTEM_PROCESSOR MATCHES "^(x86_64|AMD64|amd64|i[3-6]86)$")
            target_compile_options(${tgt} PRIVATE -fcf-protection)
        elseif(CMAKE_SYSTEM_PROCESSOR MATCHES "^(aarch64|arm64|ARM64)$")
            target_compile_options(${tgt} PRIVATE -mbranch-protection=standard)
        endif()
        if(NOT CMAKE_BUILD_TYPE STREQUAL "Debug")
            target_compile_options(${tgt} PRIVATE -U_FORTIFY_SOURCE -D_FORTIFY_SOURCE=3)
        endif()
        get_target_property(kind ${tgt} TYPE)
        if(kind STREQUAL "EXECUTABLE")
            if(arg_STATIC_PIE)
                target_link_options(${tgt} PRIVATE -static-pie)
            else()
                target_link_options(${tgt} PRIVATE -pie)
            endif()
            target_link_options(${tgt} PRIVATE -Wl,-z,relro -Wl,-z,now -Wl,-z,noexecstack)
        endif()
    endif()
endfunction()

# diag_add_test(name SOURCES...): a GoogleTest binary with warnings and sanitizers, discovered by ctest.
function(diag_add_test name)
    add_executable(${name} ${ARGN})
    target_link_libraries(${name} PRIVATE diag_core diag_audit_core GTest::gtest GTest::gtest_main)
    diag_enable_warnings(${name})
    diag_enable_sanitizers(${name})
    if(DIAG_TSAN)
        target_sources(${name} PRIVATE ${PROJECT_SOURCE_DIR}/tests/helpers/tsan_options.cc)
    endif()
    gtest_discover_tests(${name} DISCOVERY_TIMEOUT 60 PROPERTIES TIMEOUT 300)
endfunction()
