// Helpers for payload and key tests: a temporary directory removed at the end of the
// test, running outside tools (openssl) to make keys, and writing test images.
#pragma once

#include "test_util.hpp"

#include <cstdlib>
#include <fstream>
#include <random>
#include <string>

#include <gtest/gtest.h>

namespace sysext::testing {

// test::TempDir, with files named as these tests name them: dir.path("key.pem").
class TempDir : public test::TempDir {
public:
    std::string path(const std::string& name) const { return *this / name; }
    const std::string& dir() const { return test::TempDir::path(); }
};

// Runs a shell command (openssl and friends); the test fails when it does.
inline void run(const std::string& command) {
    int rc = std::system((command + " >/dev/null 2>&1").c_str());
    ASSERT_EQ(rc, 0) << "command failed: " << command;
}

inline std::string read_all(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

inline void write_all_to(const std::string& path, const std::string& data) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(data.data(), static_cast<std::streamsize>(data.size()));
}

// An RSA-2048 key made by `openssl genpkey`, mode 0600.
inline std::string make_rsa_key(const TempDir& dir, const std::string& name) {
    std::string path = dir.path(name);
    run("openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out " + path);
    run("chmod 600 " + path);
    return path;
}

// The public half of a key, as `openssl pkey -pubout` writes it.
inline std::string make_public(const TempDir& dir, const std::string& key,
                               const std::string& name) {
    std::string path = dir.path(name);
    run("openssl pkey -in " + key + " -pubout -out " + path);
    return path;
}

// An image of `size` bytes: half random (incompressible), half a repeating text.
inline std::string make_image_bytes(size_t size, unsigned seed) {
    std::mt19937 rng(seed);
    std::string data(size, '\0');
    for (size_t i = 0; i < size; ++i)
        data[i] = (i / 65536) % 2 == 0 ? static_cast<char>(rng() & 0xff)
                                       : "sysext payload test "[i % 20];
    return data;
}

} // namespace sysext::testing
