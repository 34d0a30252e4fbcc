// Debian control data: deb822 paragraphs and package relation fields.
//
// deb822 (Debian Policy 5.1, deb822(5)): "Name: value" fields, continuation lines
// start with a space or tab, paragraphs are separated by blank lines, lines
// starting with '#' are comments (allowed in apt's .sources files). Field names
// are case-insensitive. The parser does not copy: fields point into the text,
// which must outlive them, so a 50 MB Packages index is read in one pass.
//
// Relations (Policy 7.1): "a (>= 1.0) | b:any, c" -> [[a >= 1.0, b], [c]].
#pragma once

#include "sysext/source/version.hpp"

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sysext::source {

struct ControlField {
    std::string_view name;
    std::string_view raw; // everything after the colon, continuation lines included
    size_t line = 0;      // 1-based line of the field name

    // The value on one line, surrounding space removed (folded lines joined by spaces).
    std::string value() const;
    // Each line of the value, trimmed; the (often empty) first line is dropped when empty.
    std::vector<std::string_view> lines() const;
};

struct ControlParagraph {
    size_t line = 0; // 1-based line where the paragraph starts
    std::vector<ControlField> fields;

    const ControlField* find(std::string_view name) const; // case-insensitive
    std::string get(std::string_view name) const;          // value(), or "" when absent
};

// Calls `each` for every paragraph. Throws Input "<origin>:<line>: <cause>" for a
// line that is neither a field, a continuation, a comment nor blank.
void for_each_paragraph(std::string_view text, const std::string& origin,
                        const std::function<void(const ControlParagraph&)>& each);
std::vector<ControlParagraph> parse_paragraphs(std::string_view text, const std::string& origin);

struct Dependency {
    std::string name; // the arch qualifier (":any") removed
    Relation relation = Relation::Any;
    std::optional<DebianVersion> version;
    std::string str() const; // "libc6 (>= 2.36)"
};
using DependencyGroup = std::vector<Dependency>; // alternatives: any one satisfies

// A field's unsigned decimal number ("Size: 12345"): nullopt when it is empty,
// holds anything but digits, or does not fit in 64 bits.
std::optional<uint64_t> parse_decimal(std::string_view text);

// Parses Depends/Pre-Depends/Provides values; throws Input naming `origin`.
// Architecture restrictions ("[amd64]") and build profiles ("<!nocheck>") are
// accepted and ignored: binary indices do not use them.
std::vector<DependencyGroup> parse_relations(std::string_view text, const std::string& origin);
std::string group_str(const DependencyGroup& group);

} // namespace sysext::source
