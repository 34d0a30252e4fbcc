// deb822 paragraphs and relation fields (see debian_control.hpp).
#include "sysext/source/debian_control.hpp"

#include "sysext/util/error.hpp"
#include "sysext/util/strings.hpp"

#include <cctype>
#include <cstdint>

namespace sysext::source {

namespace {

bool is_space(char c) {
    return c == ' ' || c == '\t' || c == '\r';
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (is_space(s.front()) || s.front() == '\n'))
        s.remove_prefix(1);
    while (!s.empty() && (is_space(s.back()) || s.back() == '\n'))
        s.remove_suffix(1);
    return s;
}

bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size())
        return false;
    for (size_t i = 0; i < a.size(); ++i)
        if (std::tolower(static_cast<unsigned char>(a[i])) !=
            std::tolower(static_cast<unsigned char>(b[i])))
            return false;
    return true;
}

} // namespace

std::string ControlField::value() const {
    std::string out;
    for (auto text : lines()) {
        if (!out.empty())
            out += ' ';
        out += text;
    }
    return out;
}

std::vector<std::string_view> ControlField::lines() const {
    std::vector<std::string_view> out;
    size_t start = 0;
    while (start <= raw.size()) {
        size_t end = raw.find('\n', start);
        if (end == std::string_view::npos)
            end = raw.size();
        auto text = trim(raw.substr(start, end - start));
        if (!(out.empty() && start == 0 && text.empty()))
            out.push_back(text);
        start = end + 1;
    }
    while (!out.empty() && out.back().empty())
        out.pop_back();
    return out;
}

const ControlField* ControlParagraph::find(std::string_view name) const {
    for (const auto& f : fields)
        if (iequals(f.name, name))
            return &f;
    return nullptr;
}

std::string ControlParagraph::get(std::string_view name) const {
    const ControlField* f = find(name);
    return f ? f->value() : std::string();
}

void for_each_paragraph(std::string_view text, const std::string& origin,
                        const std::function<void(const ControlParagraph&)>& each) {
    ControlParagraph para;
    size_t line_no = 0;
    size_t pos = 0;
    // Where the current field's raw value starts; it ends where the next line
    // that is not a continuation starts.
    size_t raw_start = 0;
    auto close_field = [&](size_t end) {
        if (!para.fields.empty() && para.fields.back().raw.data() == nullptr)
            para.fields.back().raw = text.substr(raw_start, end - raw_start);
    };
    auto flush = [&](size_t end) {
        close_field(end);
        if (!para.fields.empty())
            each(para);
        para = ControlParagraph{};
    };
    while (pos < text.size()) {
        size_t eol = text.find('\n', pos);
        if (eol == std::string_view::npos)
            eol = text.size();
        std::string_view line = text.substr(pos, eol - pos);
        ++line_no;
        if (trim(line).empty()) {
            flush(pos);
        } else if (line.front() == '#') {
            close_field(pos);
        } else if (is_space(line.front())) {
            if (para.fields.empty() || para.fields.back().raw.data() != nullptr)
                throw_input(origin + ":" + std::to_string(line_no) +
                            ": continuation line outside a field");
        } else {
            auto colon = line.find(':');
            if (colon == std::string_view::npos || colon == 0)
                throw_input(origin + ":" + std::to_string(line_no) +
                            ": not a field: " + quote(line.substr(0, 80)));
            close_field(pos);
            if (para.fields.empty())
                para.line = line_no;
            ControlField f;
            f.name = line.substr(0, colon);
            f.line = line_no;
            para.fields.push_back(f);
            raw_start = pos + colon + 1;
        }
        pos = eol + 1;
    }
    flush(text.size());
}

std::vector<ControlParagraph> parse_paragraphs(std::string_view text, const std::string& origin) {
    std::vector<ControlParagraph> out;
    for_each_paragraph(text, origin, [&](const ControlParagraph& p) { out.push_back(p); });
    return out;
}

std::optional<uint64_t> parse_decimal(std::string_view text) {
    if (text.empty())
        return std::nullopt;
    uint64_t value = 0;
    for (char c : text) {
        if (c < '0' || c > '9')
            return std::nullopt;
        const uint64_t digit = static_cast<uint64_t>(c - '0');
        if (value > (UINT64_MAX - digit) / 10)
            return std::nullopt;
        value = value * 10 + digit;
    }
    return value;
}

std::string Dependency::str() const {
    static const char* ops[] = {"", "<<", "<=", "=", ">=", ">>"};
    if (!version)
        return name;
    return name + " (" + ops[static_cast<int>(relation)] + " " + version->str() + ")";
}

std::string group_str(const DependencyGroup& group) {
    std::string out;
    for (const auto& d : group)
        out += (out.empty() ? "" : " | ") + d.str();
    return out;
}

std::vector<DependencyGroup> parse_relations(std::string_view text, const std::string& origin) {
    std::vector<DependencyGroup> groups;
    auto bad = [&](std::string_view part, const std::string& cause) {
        throw_input(origin + ": bad relation " + quote(trim(part)) + ": " + cause);
    };
    for (const std::string& group_text : split(text, ',')) {
        if (trim(group_text).empty())
            continue;
        DependencyGroup group;
        for (const std::string& alt_text : split(group_text, '|')) {
            std::string_view s = trim(alt_text);
            Dependency d;
            size_t i = 0;
            while (i < s.size() && !is_space(s[i]) && s[i] != '(' && s[i] != '[' && s[i] != '<' &&
                   s[i] != '\n')
                ++i;
            std::string_view name = s.substr(0, i);
            if (auto colon = name.find(':'); colon != std::string_view::npos)
                name = name.substr(0, colon);
            if (name.empty())
                bad(alt_text, "no package name");
            d.name = std::string(name);
            std::string_view rest = trim(s.substr(i));
            if (!rest.empty() && rest.front() == '(') {
                auto close = rest.find(')');
                if (close == std::string_view::npos)
                    bad(alt_text, "missing ')'");
                std::string_view inner = trim(rest.substr(1, close - 1));
                size_t op_len = 0;
                while (op_len < inner.size() &&
                       (inner[op_len] == '<' || inner[op_len] == '>' || inner[op_len] == '='))
                    ++op_len;
                try {
                    d.relation = parse_relation(inner.substr(0, op_len));
                    d.version = DebianVersion::parse(inner.substr(op_len));
                } catch (const Error& e) {
                    bad(alt_text, e.what());
                }
                rest = trim(rest.substr(close + 1));
            }
            // Architecture lists and build profiles: skipped, see the header.
            while (!rest.empty() && (rest.front() == '[' || rest.front() == '<')) {
                char close_char = rest.front() == '[' ? ']' : '>';
                auto close = rest.find(close_char);
                if (close == std::string_view::npos)
                    bad(alt_text, std::string("missing '") + close_char + "'");
                rest = trim(rest.substr(close + 1));
            }
            if (!rest.empty())
                bad(alt_text, "unexpected " + quote(rest));
            group.push_back(std::move(d));
        }
        groups.push_back(std::move(group));
    }
    return groups;
}

} // namespace sysext::source
