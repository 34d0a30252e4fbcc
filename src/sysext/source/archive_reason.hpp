// libarchive's reason for a failure, for messages. archive_error_string() is
// null when libarchive set none (it sets none for a gzip stream cut short in
// its trailer), and a null pointer must never reach a std::string.
#pragma once

#include <archive.h>

#include <string>

namespace sysext::source {

inline std::string archive_reason(archive* a, const char* fallback = "unreadable archive") {
    const char* why = archive_error_string(a);
    return why != nullptr && *why != '\0' ? why : fallback;
}

} // namespace sysext::source
