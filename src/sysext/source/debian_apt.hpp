// The host's apt sources: where its Debian mirror is, so that no host name is
// ever written in our code.
//
// Reads /etc/apt/sources.list and /etc/apt/sources.list.d/ *.list (one-line
// format, sources.list(5)) and *.sources (deb822 format, "Types:", "URIs:",
// "Suites:", "Components:", "Enabled:"), in apt's order: sources.list first, then
// the directory's files by name. Only binary ("deb") entries count.
#pragma once

#include <string>
#include <vector>

namespace sysext::source {

struct AptSource {
    std::string uri;
    std::vector<std::string> suites;
    std::vector<std::string> components;
    std::string origin; // "file:line", for messages
};

// Every enabled "deb" entry under `root` (normally "/"), one per URI.
std::vector<AptSource> read_apt_sources(const std::string& root = "/");

// Parsers for one file's text, exposed for tests.
std::vector<AptSource> parse_sources_list(const std::string& text, const std::string& origin);
std::vector<AptSource> parse_deb822_sources(const std::string& text, const std::string& origin);

struct MirrorChoice {
    std::string mirror;
    std::string suite;
    std::vector<std::string> components;
    std::string origin; // where it came from: "file:line" or "command line"
};

// Fills in what the user did not give. With a suite, the first entry listing that
// suite, else the first entry (its URI with the user's suite: a host running one
// release can build for another from the same mirror). Throws Usage when there is
// nothing to go on, saying which flag to give.
MirrorChoice choose_mirror(const std::string& mirror, const std::string& suite,
                           const std::vector<AptSource>& sources);

} // namespace sysext::source
