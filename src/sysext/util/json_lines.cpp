#include "sysext/util/json_lines.hpp"

#include <vector>

namespace sysext {

std::string json_pointer_token(std::string_view key) {
    std::string out;
    for (char c : key) {
        if (c == '~')
            out += "~0";
        else if (c == '/')
            out += "~1";
        else
            out += c;
    }
    return out;
}

namespace {
struct Frame {
    bool object;
    std::string prefix;  // the container's own pointer
    std::string key;     // object: the current key
    long index = -1;     // array: the current element
    bool expect_key = true;
};
} // namespace

JsonLines::JsonLines(std::string_view text) {
    std::vector<Frame> stack;
    int line = 1;
    auto here = [&]() -> std::string {
        if (stack.empty())
            return "";
        const Frame& f = stack.back();
        return f.prefix + "/" + (f.object ? json_pointer_token(f.key) : std::to_string(f.index));
    };
    // A value starts: arrays count it, and its pointer gets the current line
    // unless its key already gave one.
    auto value_starts = [&]() {
        if (!stack.empty() && !stack.back().object) {
            stack.back().index++;
            m_lines.emplace(here(), line);
        }
        if (stack.empty())
            m_lines.emplace("", line);
    };
    for (size_t i = 0; i < text.size(); ++i) {
        char c = text[i];
        if (c == '\n') {
            ++line;
        } else if (c == '"') {
            std::string s;
            for (++i; i < text.size() && text[i] != '"'; ++i) {
                if (text[i] == '\\' && i + 1 < text.size()) {
                    ++i;
                    // Keys with escapes are rare in profiles; keep the escaped char.
                    s += text[i] == 'n' ? '\n' : text[i];
                } else {
                    if (text[i] == '\n')
                        ++line;
                    s += text[i];
                }
            }
            if (!stack.empty() && stack.back().object && stack.back().expect_key) {
                stack.back().key = s;
                stack.back().expect_key = false;
                m_lines.emplace(here(), line);
            } else {
                value_starts();
            }
        } else if (c == '{' || c == '[') {
            value_starts();
            std::string prefix = here();
            stack.push_back({c == '{', prefix, "", -1, true});
        } else if (c == '}' || c == ']') {
            if (!stack.empty())
                stack.pop_back();
        } else if (c == ',') {
            if (!stack.empty() && stack.back().object)
                stack.back().expect_key = true;
        } else if (c == ':' || c == ' ' || c == '\t' || c == '\r') {
            // nothing
        } else {
            // number or literal: skip to its end
            value_starts();
            while (i + 1 < text.size() && text[i + 1] != ',' && text[i + 1] != '}' &&
                   text[i + 1] != ']' && text[i + 1] != '\n' && text[i + 1] != ' ')
                ++i;
        }
    }
}

int JsonLines::line(const std::string& pointer) const {
    std::string p = pointer;
    for (;;) {
        auto it = m_lines.find(p);
        if (it != m_lines.end())
            return it->second;
        auto slash = p.rfind('/');
        if (slash == std::string::npos)
            return 1;
        p.resize(slash);
    }
}

} // namespace sysext
