// Debian version parsing and ordering, following dpkg's lib/dpkg/version.c and
// lib/dpkg/parsehelp.c so that our choice of "highest" is the one apt makes.
#include "sysext/source/version.hpp"

#include "sysext/util/error.hpp"
#include "sysext/util/strings.hpp"

#include <algorithm>
#include <cctype>
#include <climits>
#include <limits>

namespace sysext::source {

namespace {

bool is_digit(char c) {
    return c >= '0' && c <= '9';
}
bool is_alpha(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
bool is_alnum(char c) {
    return is_digit(c) || is_alpha(c);
}

// dpkg's order(): '~' sorts before the end of the string, which sorts before
// letters, which sort before every other character.
int order(char c) {
    if (is_digit(c))
        return 0;
    if (is_alpha(c))
        return static_cast<unsigned char>(c);
    if (c == '~')
        return -1;
    if (c != '\0')
        return static_cast<unsigned char>(c) + 256;
    return 0;
}

// dpkg's verrevcmp(): alternating non-digit and digit runs; digit runs compare
// numerically (leading zeros ignored) without overflow.
int verrevcmp(std::string_view a, std::string_view b) {
    size_t i = 0;
    size_t j = 0;
    auto at = [](std::string_view s, size_t k) { return k < s.size() ? s[k] : '\0'; };
    while (i < a.size() || j < b.size()) {
        int first_diff = 0;
        while ((i < a.size() && !is_digit(a[i])) || (j < b.size() && !is_digit(b[j]))) {
            int ac = order(at(a, i));
            int bc = order(at(b, j));
            if (ac != bc)
                return ac - bc;
            ++i;
            ++j;
        }
        while (at(a, i) == '0')
            ++i;
        while (at(b, j) == '0')
            ++j;
        while (is_digit(at(a, i)) && is_digit(at(b, j))) {
            if (first_diff == 0)
                first_diff = at(a, i) - at(b, j);
            ++i;
            ++j;
        }
        if (is_digit(at(a, i)))
            return 1;
        if (is_digit(at(b, j)))
            return -1;
        if (first_diff != 0)
            return first_diff;
    }
    return 0;
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front())))
        s.remove_prefix(1);
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back())))
        s.remove_suffix(1);
    return s;
}

[[noreturn]] void bad_version(std::string_view text, const std::string& cause) {
    throw_input("bad version " + quote(text) + ": " + cause);
}

} // namespace

DebianVersion DebianVersion::parse(std::string_view text) {
    std::string_view s = trim(text);
    if (s.empty())
        bad_version(text, "empty");
    for (char c : s)
        if (std::isspace(static_cast<unsigned char>(c)))
            bad_version(text, "embedded space");

    DebianVersion v;
    if (auto colon = s.find(':'); colon != std::string_view::npos) {
        std::string_view epoch = s.substr(0, colon);
        if (epoch.empty())
            bad_version(text, "epoch is empty");
        uint64_t value = 0;
        for (char c : epoch) {
            if (!is_digit(c))
                bad_version(text, "epoch is not a number");
            value = value * 10 + static_cast<uint64_t>(c - '0');
            if (value > static_cast<uint64_t>(INT_MAX))
                bad_version(text, "epoch is too big");
        }
        v.epoch = static_cast<uint32_t>(value);
        s.remove_prefix(colon + 1);
    }
    if (auto hyphen = s.rfind('-'); hyphen != std::string_view::npos) {
        v.revision = std::string(s.substr(hyphen + 1));
        if (v.revision.empty())
            bad_version(text, "revision is empty");
        s = s.substr(0, hyphen);
    }
    v.upstream = std::string(s);
    if (v.upstream.empty())
        bad_version(text, "upstream version is empty");
    if (!is_digit(v.upstream.front()))
        bad_version(text, "upstream version does not start with a digit");
    for (char c : v.upstream)
        if (!is_alnum(c) && c != '.' && c != '-' && c != '+' && c != '~' && c != ':')
            bad_version(text, "invalid character " + quote(std::string_view(&c, 1)) +
                                  " in upstream version");
    for (char c : v.revision)
        if (!is_alnum(c) && c != '.' && c != '+' && c != '~')
            bad_version(text,
                        "invalid character " + quote(std::string_view(&c, 1)) + " in revision");
    return v;
}

std::string DebianVersion::str() const {
    std::string out;
    if (epoch != 0)
        out = std::to_string(epoch) + ":";
    out += upstream;
    if (!revision.empty())
        out += "-" + revision;
    return out;
}

int compare_versions(const DebianVersion& a, const DebianVersion& b) {
    if (a.epoch != b.epoch)
        return a.epoch < b.epoch ? -1 : 1;
    if (int r = verrevcmp(a.upstream, b.upstream); r != 0)
        return r;
    return verrevcmp(a.revision, b.revision);
}

int compare_versions(std::string_view a, std::string_view b) {
    return compare_versions(DebianVersion::parse(a), DebianVersion::parse(b));
}

Relation parse_relation(std::string_view op) {
    if (op == "<<")
        return Relation::Less;
    if (op == "<=" || op == "<")
        return Relation::LessEqual;
    if (op == "=")
        return Relation::Equal;
    if (op == ">=" || op == ">")
        return Relation::GreaterEqual;
    if (op == ">>")
        return Relation::Greater;
    throw_input("unknown version relation " + quote(op));
}

bool satisfies(const DebianVersion& version, Relation relation, const DebianVersion& bound) {
    if (relation == Relation::Any)
        return true;
    int c = compare_versions(version, bound);
    switch (relation) {
    case Relation::Less:
        return c < 0;
    case Relation::LessEqual:
        return c <= 0;
    case Relation::Equal:
        return c == 0;
    case Relation::GreaterEqual:
        return c >= 0;
    case Relation::Greater:
        return c > 0;
    case Relation::Any:
        break;
    }
    return true;
}

std::vector<uint64_t> release_numbers(std::string_view upstream) {
    std::vector<uint64_t> numbers;
    size_t i = 0;
    while (i < upstream.size() && is_digit(upstream[i])) {
        uint64_t n = 0;
        for (; i < upstream.size() && is_digit(upstream[i]); ++i) {
            uint64_t digit = static_cast<uint64_t>(upstream[i] - '0');
            // Saturate: a 25-digit run is no release number anyone asks for.
            n = n > (std::numeric_limits<uint64_t>::max() - digit) / 10
                    ? std::numeric_limits<uint64_t>::max()
                    : n * 10 + digit;
        }
        numbers.push_back(n);
        if (i + 1 < upstream.size() && upstream[i] == '.' && is_digit(upstream[i + 1]))
            ++i;
        else
            break;
    }
    return numbers;
}

VersionPattern VersionPattern::parse(std::string_view text) {
    VersionPattern p;
    p.m_text = std::string(trim(text));
    const std::string& t = p.m_text;
    if (t == "latest" || t == "*" || t == "x") {
        p.m_kind = Kind::Latest;
        return p;
    }
    bool dotted = !t.empty();
    for (char c : t)
        if (!is_digit(c) && c != '.' && c != 'x' && c != '*')
            dotted = false;
    if (!dotted) {
        try {
            p.m_exact = DebianVersion::parse(t);
        } catch (const Error&) {
            throw_usage("bad version pattern " + quote(t) +
                        " (use latest, 5.x, 5.4.x, 5.4.2 or an exact Debian version)");
        }
        p.m_kind = Kind::Exact;
        return p;
    }
    auto parts = split(t, '.');
    for (size_t i = 0; i < parts.size(); ++i) {
        const std::string& part = parts[i];
        bool wildcard = part == "x" || part == "*";
        if (wildcard && i + 1 == parts.size() && i > 0) {
            p.m_kind = Kind::Prefix;
            return p;
        }
        if (part.empty() || part.size() > 18 ||
            part.find_first_not_of("0123456789") != std::string::npos)
            throw_usage("bad version pattern " + quote(t) +
                        " (use latest, 5.x, 5.4.x, 5.4.2 or an exact Debian version)");
        p.m_numbers.push_back(std::stoull(part));
    }
    p.m_kind = Kind::Release;
    return p;
}

bool VersionPattern::matches(const DebianVersion& version) const {
    switch (m_kind) {
    case Kind::Latest:
        return true;
    case Kind::Prefix: {
        auto numbers = release_numbers(version.upstream);
        return numbers.size() >= m_numbers.size() &&
               std::equal(m_numbers.begin(), m_numbers.end(), numbers.begin());
    }
    case Kind::Release:
        return release_numbers(version.upstream) == m_numbers;
    case Kind::Exact: {
        if (verrevcmp(version.upstream, m_exact->upstream) != 0)
            return false;
        if (m_text.find(':') != std::string::npos && version.epoch != m_exact->epoch)
            return false;
        // The revision is part of the pattern only when the user wrote one.
        if (!m_exact->revision.empty() && verrevcmp(version.revision, m_exact->revision) != 0)
            return false;
        return true;
    }
    }
    return false;
}

std::optional<size_t> pick_highest(const std::vector<DebianVersion>& versions,
                                   const VersionPattern& pattern) {
    std::optional<size_t> best;
    for (size_t i = 0; i < versions.size(); ++i) {
        if (!pattern.matches(versions[i]))
            continue;
        if (!best || compare_versions(versions[i], versions[*best]) > 0)
            best = i;
    }
    return best;
}

} // namespace sysext::source
