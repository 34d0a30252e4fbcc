// Where each value of a JSON document is, by line, so that errors found after
// parsing (an unknown key, a wrong type) can say "profile.json:14: ...".
//
// The document is parsed by nlohmann_json; this only scans the text once more to
// map JSON pointers ("/targets/debian/release/ID") to the line of their key (in
// objects) or value (in arrays). Escaping follows RFC 6901, as json_pointer does.
#pragma once

#include <map>
#include <string>
#include <string_view>

namespace sysext {

class JsonLines {
public:
    explicit JsonLines(std::string_view text);
    // The line of the pointer, or of its nearest ancestor that is known; 1 at worst.
    int line(const std::string& pointer) const;

private:
    std::map<std::string, int> m_lines;
};

// RFC 6901 escaping of one reference token.
std::string json_pointer_token(std::string_view key);

} // namespace sysext
