# Every outside library comes from a Debian 12 package (scripts/bootstrap).
find_package(Threads REQUIRED)
find_package(Boost 1.81 REQUIRED)        # Asio and Beast are header-only here
find_package(OpenSSL REQUIRED)
find_package(ZLIB REQUIRED)
find_package(fmt REQUIRED)
find_package(yaml-cpp REQUIRED)
find_package(SQLiteCpp REQUIRED)
find_package(pugixml REQUIRED)
find_package(RapidJSON REQUIRED)

# RapidJSON defines no imported target; wrap its include path.
add_library(fitbridge_rapidjson INTERFACE)
target_include_directories(fitbridge_rapidjson SYSTEM INTERFACE ${RAPIDJSON_INCLUDE_DIRS})
target_compile_definitions(fitbridge_rapidjson INTERFACE RAPIDJSON_HAS_STDSTRING=1)

# Asio and Beast in separate-compilation mode: their definitions live in one TU
# (lib/net/asio_impl.cpp); everything else sees declarations only.
add_library(fitbridge_asio INTERFACE)
target_link_libraries(fitbridge_asio INTERFACE Boost::headers OpenSSL::SSL OpenSSL::Crypto Threads::Threads)
target_compile_definitions(fitbridge_asio INTERFACE
  BOOST_ASIO_SEPARATE_COMPILATION BOOST_BEAST_SEPARATE_COMPILATION
  BOOST_ASIO_NO_DEPRECATED BOOST_ASIO_DISABLE_BOOST_COROUTINE)

if(FITBRIDGE_BUILD_TESTS)
  find_package(GTest REQUIRED)
endif()

# libzip (libzip-dev) opens the ZIP archives some platforms serve originals in
# (providers/kit/files.cpp); it ships a pkg-config file.
find_package(PkgConfig REQUIRED)
pkg_check_modules(LIBZIP REQUIRED IMPORTED_TARGET libzip)
# libexpat (libexpat1-dev) streams Apple Health's export.xml, often over 1 GB
# (providers/health_export).
find_package(EXPAT REQUIRED)
