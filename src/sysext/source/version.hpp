// Debian package versions and the version patterns a user asks for.
//
// A Debian version is [epoch:]upstream[-revision] (Debian Policy 5.6.12).
// compare_versions() orders them exactly as dpkg does (dpkg's lib/dpkg/version.c:
// letters sort before non-letters, '~' before everything, even the end of the
// string, digit runs compare as numbers). Patterns ("5.x", "5.4.x", "5.4.2",
// "latest") are matched on the upstream part only, so that "5.x" picks
// "5.4.2+ds1-1" and "1:5.0-2" alike; among matches the highest version wins.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sysext::source {

struct DebianVersion {
    uint32_t epoch = 0;
    std::string upstream;
    std::string revision; // "" when the version has none

    // Parses with dpkg's rules; throws Input ("bad version \"x\": <cause>").
    static DebianVersion parse(std::string_view text);
    // The canonical text: the epoch only when non-zero, the revision only when present.
    std::string str() const;
};

// <0, 0, >0 like strcmp, in dpkg's order.
int compare_versions(const DebianVersion& a, const DebianVersion& b);
// Parses both (throwing Input on bad syntax) and compares.
int compare_versions(std::string_view a, std::string_view b);

// A dependency relation's operator, as in "libc6 (>= 2.36)".
enum class Relation { Any, Less, LessEqual, Equal, GreaterEqual, Greater };
// "<<", "<=", "=", ">=", ">>" (and the deprecated "<" and ">", which mean <= and >=).
Relation parse_relation(std::string_view op);
bool satisfies(const DebianVersion& version, Relation relation, const DebianVersion& bound);

// What the user asked for: `latest`, a dotted prefix ending in `.x` (`5.x`,
// `5.4.x`), a dotted release (`5.4.2`), or an exact version with letters, an
// epoch or a revision (`5.4.2+ds1-1`, `1:2.0`).
class VersionPattern {
public:
    static VersionPattern parse(std::string_view text);
    static VersionPattern latest() { return parse("latest"); }

    bool matches(const DebianVersion& version) const;
    const std::string& str() const { return m_text; }

private:
    enum class Kind { Latest, Prefix, Release, Exact };
    Kind m_kind = Kind::Latest;
    std::string m_text;
    std::vector<uint64_t> m_numbers; // Prefix, Release
    std::optional<DebianVersion> m_exact;
};

// The leading dotted numbers of an upstream version: "5.4.2+ds1" -> {5, 4, 2}.
std::vector<uint64_t> release_numbers(std::string_view upstream);

// The highest of `versions` that the pattern matches, or nullopt.
std::optional<size_t> pick_highest(const std::vector<DebianVersion>& versions,
                                   const VersionPattern& pattern);

} // namespace sysext::source
