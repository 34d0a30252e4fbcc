// Small string helpers that know nothing about images.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace sysext {

// "128K", "1M", "4096" -> bytes. Throws Usage naming `what` on bad input.
uint64_t parse_size(std::string_view text, std::string_view what);
// Human-readable size, e.g. "101.8 MB" (decimal units, one decimal).
std::string format_size(uint64_t bytes);
std::vector<std::string> split(std::string_view s, char sep);
// Whitespace-separated words, empty ones dropped.
std::vector<std::string> split_words(std::string_view s);
bool starts_with(std::string_view s, std::string_view prefix);
bool ends_with(std::string_view s, std::string_view suffix);
// Levenshtein distance, for "did you mean" suggestions.
size_t edit_distance(std::string_view a, std::string_view b);
// The candidate closest to `word`, or "" when none is close enough.
std::string nearest(std::string_view word, const std::vector<std::string>& candidates);
// Every occurrence of `from` in text replaced by `to`.
std::string replace_all(std::string text, const std::string& from, const std::string& to);
// Quotes a string for messages: control characters escaped, wrapped in "".
std::string quote(std::string_view s);
// Text read from an image that may be damaged, quoted for messages: control
// characters and non-ASCII bytes escaped, so messages stay printable UTF-8.
std::string quote_untrusted(std::string_view text);

} // namespace sysext
