#include "sysext/publish/index.hpp"

#include "sysext/util/atomic_file.hpp"
#include "sysext/util/cleanup.hpp"
#include "sysext/util/error.hpp"
#include "sysext/util/fd.hpp"
#include "sysext/util/sha256.hpp"
#include "sysext/util/strings.hpp"

#include <algorithm>
#include <fcntl.h>
#include <filesystem>
#include <map>
#include <memory>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

namespace fs = std::filesystem;

namespace sysext::publish {

namespace {

constexpr const char* k_sums = "SHA256SUMS";
constexpr const char* k_signature = "SHA256SUMS.gpg";

// A name that stands alone on a SHA256SUMS line and in a URL path: no
// separators, blanks or control characters, not hidden (temporaries are).
bool plain_file_name(const std::string& name) {
    return !name.empty() && name[0] != '.' && name.size() <= 255 &&
           std::none_of(name.begin(), name.end(), [](char c) {
               return static_cast<unsigned char>(c) <= 0x20 || c == 0x7f || c == '/' ||
                      c == '\\';
           });
}

// Files that keep their name in the index (see index.hpp).
bool keeps_name(const std::string& name) {
    for (const char* suffix : {".raw", ".verity", ".roothash", ".p7s", ".gz", ".gz.hash",
                               ".lock.json", ".conf"})
        if (ends_with(name, suffix))
            return true;
    return starts_with(name, "sysext-update-");
}

struct Planned {
    std::string source; // the release's file
    std::string sha256;
    std::string from;   // the release directory, for messages
};

bool is_release_dir(const std::string& dir) {
    std::error_code ec;
    return fs::is_regular_file(dir + "/" + k_sums, ec);
}

// The release directories an argument names: itself, or its TARGET/RELEASE/.
std::vector<std::string> release_dirs(const std::string& arg) {
    std::error_code ec;
    if (!fs::is_directory(arg, ec))
        throw_usage(arg + ": not a directory");
    if (is_release_dir(arg))
        return {arg};
    std::vector<std::string> out;
    for (const auto& target : fs::directory_iterator(arg, ec)) {
        if (!target.is_directory(ec) || target.path().filename().string()[0] == '.')
            continue;
        for (const auto& rel : fs::directory_iterator(target.path(), ec))
            if (rel.path().filename().string()[0] != '.' && is_release_dir(rel.path().string()))
                out.push_back(rel.path().string());
    }
    std::sort(out.begin(), out.end());
    if (out.empty())
        throw_usage(arg + ": no release directories (RELEASE/SHA256SUMS or TARGET/RELEASE/SHA256SUMS)");
    return out;
}

// Every file a release's SHA256SUMS lists, checked; nothing else in it but the
// list and its signature.
void plan_release(const std::string& dir, std::map<std::string, Planned>& plan,
                  std::vector<std::string>& problems) {
    const std::string release = fs::path(dir).filename().string();
    const auto listed = parse_sha256sums(read_file(dir + "/" + k_sums), dir + "/" + k_sums);
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(dir, ec)) {
        const std::string name = entry.path().filename().string();
        if (name != k_sums && name != k_signature && !listed.count(name))
            problems.push_back(dir + "/" + name + ": not listed in the release's SHA256SUMS");
    }
    for (const auto& [name, hash] : listed) {
        const std::string path = dir + "/" + name;
        if (!plain_file_name(name) || !fs::is_regular_file(path, ec)) {
            problems.push_back(dir + "/" + k_sums + ": lists " + quote_untrusted(name) +
                               ", which is not a file of the release");
            continue;
        }
        const std::string actual = to_hex(sha256_file(path));
        if (actual != hash) {
            problems.push_back(path + ": does not match the release's SHA256SUMS (" + hash +
                               ", the file has " + actual + ")");
            continue;
        }
        const std::string index_name = keeps_name(name) ? name : release + "." + name;
        auto [it, inserted] = plan.emplace(index_name, Planned{path, hash, dir});
        if (!inserted && it->second.sha256 != hash)
            problems.push_back(index_name + ": " + it->second.from + " and " + dir +
                               " carry different files of this name");
    }
}

} // namespace

std::map<std::string, std::string> parse_sha256sums(const std::string& text,
                                                    const std::string& origin) {
    std::map<std::string, std::string> out;
    size_t number = 0;
    for (const auto& line : split(text, '\n')) {
        ++number;
        if (line.empty())
            continue;
        const bool hex = line.size() > 66 &&
                         std::all_of(line.begin(), line.begin() + 64, [](char c) {
                             return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
                         });
        if (!hex || line[64] != ' ' || (line[65] != ' ' && line[65] != '*') ||
            !plain_file_name(line.substr(66)))
            throw_input(origin + ":" + std::to_string(number) + ": not a SHA256SUMS line (" +
                        quote_untrusted(line.substr(0, 100)) + ")");
        const std::string name = line.substr(66), hash = line.substr(0, 64);
        auto [it, inserted] = out.emplace(name, hash);
        if (!inserted && it->second != hash)
            throw_input(origin + ":" + std::to_string(number) + ": " + name +
                        " listed twice with different hashes");
    }
    return out;
}

IndexResult add_to_index(const IndexOptions& o, Reporter& reporter) {
    if (o.index.empty())
        throw_usage("index: no index directory given");
    if (o.releases.empty())
        throw_usage("index: no release directories given");
    // The key first: one gpg cannot use fails before anything is read or written.
    const std::string fingerprint = o.gpg.enabled() ? gpg_fingerprint(o.gpg) : "";

    // What the releases bring, each checked against its own SHA256SUMS.
    reporter.stage("index: checking the releases");
    std::vector<std::string> dirs;
    for (const auto& arg : o.releases)
        for (const auto& d : release_dirs(arg))
            dirs.push_back(d);
    std::map<std::string, Planned> plan;
    std::vector<std::string> problems;
    for (const auto& d : dirs)
        plan_release(d, plan, problems);
    if (!problems.empty())
        throw MultiError(ErrorKind::Input, problems);

    // The index, locked for the rest of the run.
    std::error_code ec;
    fs::create_directories(o.index, ec);
    if (ec)
        throw Error(ErrorKind::Io, o.index + ": cannot create the index directory: " + ec.message());
    Fd lock = open_or_throw(o.index, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (::flock(lock.get(), LOCK_EX) != 0)
        throw_errno(o.index + ": cannot lock the index");
    // Temporaries of runs killed before their renames (hidden, but served by
    // many web servers, and an image's as large as the image). Under the lock
    // no other run makes any here, so every unlocked one is left over, however
    // young; the next run removes them even when it adds nothing.
    cleanup::sweep_unlocked(
        o.index,
        [](std::string_view name) {
            const size_t tmp = name.rfind(".tmp-");
            return name.size() > 1 && name[0] == '.' && tmp != std::string_view::npos &&
                   name.size() == tmp + 11;
        },
        0);
    const std::string sums_path = o.index + "/" + k_sums, sig_path = o.index + "/" + k_signature;
    std::map<std::string, std::string> listed;
    std::string old_sums;
    if (fs::exists(sums_path, ec)) {
        old_sums = read_file(sums_path);
        listed = parse_sha256sums(old_sums, sums_path);
    }
    if (!o.published.empty())
        for (const auto& [name, hash] : parse_sha256sums(read_file(o.published), o.published)) {
            auto [it, inserted] = listed.emplace(name, hash);
            if (!inserted && it->second != hash)
                problems.push_back(name + ": " + sums_path + " and " + o.published +
                                   " list different bytes");
        }
    const bool had_signature = fs::exists(sig_path, ec);

    // New names, and names taken by other bytes.
    std::vector<std::string> added;
    for (const auto& [name, p] : plan) {
        auto it = listed.find(name);
        if (it != listed.end()) {
            if (it->second != p.sha256)
                problems.push_back(name + ": already published with other bytes (" + it->second +
                                   ", now " + p.sha256 + " from " + p.from + "); refusing");
            continue;
        }
        const std::string there = o.index + "/" + name;
        if (fs::exists(there, ec) &&
            (!fs::is_regular_file(there, ec) || to_hex(sha256_file(there)) != p.sha256))
            problems.push_back(there + ": exists, not listed in SHA256SUMS, with other bytes; "
                                       "refusing to replace it");
        added.push_back(name);
    }
    if (!problems.empty())
        throw MultiError(ErrorKind::Input, problems);
    for (const auto& name : added)
        listed[name] = plan.at(name).sha256;
    std::string sums;
    for (const auto& [name, hash] : listed)
        sums += hash + "  " + name + "\n";

    IndexResult result;
    result.path = o.index;
    result.releases = dirs.size();
    result.added = added;
    result.entries = listed.size();
    if (!o.gpg.enabled() && had_signature && sums != old_sums)
        throw_usage(o.index + ": the index is signed (" + k_signature +
                    "): give --gpg-key to sign its new SHA256SUMS");
    // Nothing new: nothing written, unless the signature is missing or stale
    // (a run killed between the last two renames, or a first --gpg-key).
    bool sign = o.gpg.enabled();
    if (sums == old_sums) {
        if (sign && had_signature &&
            gpg_verifies(o.gpg, fingerprint, sums, read_file(sig_path, 1 << 20)))
            sign = false;
        if (!sign) {
            result.is_signed = had_signature;
            return result;
        }
    }

    // Everything under temporary names first.
    reporter.stage("index: copying " + std::to_string(added.size()) + " files");
    std::vector<std::unique_ptr<AtomicFile>> files;
    std::vector<char> buf(1 << 20);
    for (const auto& name : added) {
        const std::string src = plan.at(name).source;
        auto out = std::make_unique<AtomicFile>(o.index + "/" + name, 0644);
        Fd in = open_or_throw(src, O_RDONLY | O_CLOEXEC);
        Sha256 hash;
        for (off_t offset = 0;;) {
            size_t n = pread_full(in.get(), buf.data(), buf.size(), offset, src);
            if (n == 0)
                break;
            hash.update(buf.data(), n);
            out->write(buf.data(), n);
            offset += static_cast<off_t>(n);
        }
        if (to_hex(hash.finish()) != plan.at(name).sha256)
            throw_input(src + ": changed while it was copied into the index");
        files.push_back(std::move(out));
    }
    auto sums_file = std::make_unique<AtomicFile>(sums_path, 0644);
    sums_file->write(sums);
    std::unique_ptr<AtomicFile> sig_file;
    if (sign) {
        reporter.stage("index: signing SHA256SUMS with gpg");
        sig_file = std::make_unique<AtomicFile>(sig_path, 0644);
        sig_file->write(gpg_detach_sign(o.gpg, sums, sums_path));
    }

    // Then into place: the new files (listed nowhere yet), the signature, the list.
    reporter.stage("index: renaming into place");
    for (auto& f : files)
        f->commit(true);
    if (sig_file)
        sig_file->commit(true);
    sums_file->commit(true);
    if (::fsync(lock.get()) != 0)
        throw_errno(o.index + ": cannot flush to disk");
    result.changed = true;
    result.is_signed = sign || had_signature;
    return result;
}

} // namespace sysext::publish
