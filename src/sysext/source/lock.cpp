// Lock file reading and writing (see lock.hpp).
#include "sysext/source/lock.hpp"

#include "sysext/source/fetch.hpp"
#include "sysext/util/atomic_file.hpp"
#include "sysext/util/error.hpp"
#include "sysext/util/fd.hpp"
#include "sysext/util/strings.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <tuple>

namespace sysext::source {

namespace {

constexpr int k_lock_format = 1;
constexpr const char* k_format_key = "sysext-build-lock";

const std::vector<std::string>& entry_keys() {
    static const std::vector<std::string> keys{"kind", "name",     "version", "architecture",
                                               "url",  "filename", "sha256",  "size"};
    return keys;
}

auto sort_key(const LockEntry& e) {
    return std::tie(e.kind, e.name, e.architecture);
}

// 1-based line of a byte offset, for JSON syntax errors.
size_t line_of(const std::string& text, size_t byte) {
    return 1 +
           static_cast<size_t>(std::count(
               text.begin(), text.begin() + static_cast<long>(std::min(byte, text.size())), '\n'));
}

} // namespace

std::string LockEntry::source_url(const std::string& mirror) const {
    if (!mirror.empty() && !filename.empty()) {
        std::string m = mirror;
        while (!m.empty() && m.back() == '/')
            m.pop_back();
        return m + "/" + filename;
    }
    return url;
}

void LockFile::add(LockEntry entry) {
    auto pos = std::lower_bound(
        m_entries.begin(), m_entries.end(), entry,
        [](const LockEntry& a, const LockEntry& b) { return sort_key(a) < sort_key(b); });
    if (pos != m_entries.end() && sort_key(*pos) == sort_key(entry)) {
        if (*pos == entry)
            return;
        throw_input("lock: two different inputs named " + quote(entry.kind + " " + entry.name) +
                    ": " + pos->version + " and " + entry.version);
    }
    m_entries.insert(pos, std::move(entry));
}

std::string LockFile::to_json() const {
    nlohmann::ordered_json inputs = nlohmann::ordered_json::array();
    for (const auto& e : m_entries) {
        nlohmann::ordered_json j;
        j["kind"] = e.kind;
        j["name"] = e.name;
        if (!e.version.empty())
            j["version"] = e.version;
        if (!e.architecture.empty())
            j["architecture"] = e.architecture;
        j["url"] = e.url;
        if (!e.filename.empty())
            j["filename"] = e.filename;
        j["sha256"] = e.sha256;
        j["size"] = e.size;
        inputs.push_back(std::move(j));
    }
    nlohmann::ordered_json doc;
    doc[k_format_key] = k_lock_format;
    if (!m_settings.empty()) {
        nlohmann::ordered_json build = nlohmann::ordered_json::object();
        for (const auto& [key, value] : m_settings)
            build[key] = value;
        doc["build"] = std::move(build);
    }
    doc["inputs"] = std::move(inputs);
    return doc.dump(2) + "\n";
}

LockFile LockFile::parse(const std::string& text, const std::string& origin) {
    nlohmann::json doc;
    try {
        doc = nlohmann::json::parse(text);
    } catch (const nlohmann::json::parse_error& e) {
        throw_input(origin + ":" + std::to_string(line_of(text, e.byte)) + ": not valid JSON");
    }
    if (!doc.is_object() || !doc.contains(k_format_key) || !doc.contains("inputs"))
        throw_input(origin + ": not a sysext-build lock file (no \"" + std::string(k_format_key) +
                    "\" and \"inputs\")");
    if (doc[k_format_key] != k_lock_format)
        throw_input(origin + ": lock format " + doc[k_format_key].dump() +
                    " is not supported (expected " + std::to_string(k_lock_format) + ")");
    if (!doc["inputs"].is_array())
        throw_input(origin + ": \"inputs\" must be an array");
    LockFile lock;
    if (doc.contains("build")) {
        if (!doc["build"].is_object())
            throw_input(origin + ": \"build\" must be an object");
        for (const auto& [key, value] : doc["build"].items()) {
            if (!value.is_string())
                throw_input(origin + ": build." + key + " must be a string");
            lock.set(key, value.get<std::string>());
        }
    }
    size_t index = 0;
    for (const auto& j : doc["inputs"]) {
        const std::string where = origin + ": inputs[" + std::to_string(index++) + "]";
        if (!j.is_object())
            throw_input(where + ": must be an object");
        for (const auto& [key, value] : j.items())
            if (std::find(entry_keys().begin(), entry_keys().end(), key) == entry_keys().end()) {
                std::string msg = where + ": unknown key " + quote(key);
                if (auto near = nearest(key, entry_keys()); !near.empty())
                    msg += " (did you mean " + quote(near) + "?)";
                throw_input(msg);
            }
        auto text_field = [&](const char* key, bool required) {
            if (!j.contains(key)) {
                if (required)
                    throw_input(where + ": missing " + quote(key));
                return std::string();
            }
            if (!j[key].is_string())
                throw_input(where + ": " + quote(key) + " must be a string");
            return j[key].get<std::string>();
        };
        LockEntry e;
        e.kind = text_field("kind", true);
        e.name = text_field("name", true);
        e.version = text_field("version", false);
        e.architecture = text_field("architecture", false);
        e.url = text_field("url", true);
        e.filename = text_field("filename", false);
        e.sha256 = normalize_sha256(text_field("sha256", true), where);
        if (!j.contains("size") || !j["size"].is_number_unsigned())
            throw_input(where + ": \"size\" must be a number of bytes");
        e.size = j["size"].get<uint64_t>();
        // Replayed against a mirror, the filename must stay inside it.
        if (!e.filename.empty()) {
            bool safe = e.filename.front() != '/' && e.filename.find("://") == std::string::npos;
            for (const auto& part : split(e.filename, '/'))
                safe = safe && !part.empty() && part != "." && part != "..";
            if (!safe)
                throw_input(where + ": bad filename " + quote(e.filename));
        }
        lock.add(std::move(e));
    }
    return lock;
}

LockFile LockFile::read(const std::string& path) {
    return parse(read_file(path), path);
}

void LockFile::write(const std::string& path) const {
    write_file_atomic(path, to_json());
}

} // namespace sysext::source
