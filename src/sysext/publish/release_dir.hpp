// A release directory that only ever appears complete under its final name.
//
// Files are staged in PARENT/.NAME.tmp-XXXXXX (created with mkdtemp, locked with
// flock for as long as this object lives), fsynced, and the directory is
// renamed to PARENT/NAME on commit. A run killed half-way leaves only such a
// staging directory; the next run removes the ones no live process holds locked
// (never anything else). If PARENT/NAME exists already, commit compares every
// file: the same names with the same bytes are accepted ("already published"),
// anything else is refused with the differing names and the existing directory
// is left as it was. A signature that carries a time (add_signature) is
// compared by its presence only.
#pragma once

#include "sysext/util/cleanup.hpp"
#include "sysext/util/fd.hpp"
#include "sysext/util/reporter.hpp"

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace sysext::publish {

struct StagedFile {
    std::string name; // file name inside the release directory
    uint64_t size = 0;
    std::string sha256; // hex
};

enum class CommitOutcome { Published, AlreadyPublished };

class ReleaseDir {
public:
    // Creates PARENT (and its parents) if needed, removes stale staging
    // directories of killed runs, and creates this run's staging directory.
    ReleaseDir(std::string parent, std::string name);
    ReleaseDir(const ReleaseDir&) = delete;
    ReleaseDir& operator=(const ReleaseDir&) = delete;
    // Removes the staging directory unless committed.
    ~ReleaseDir();

    const std::string& final_path() const { return m_final; }
    const std::string& staging_path() const { return m_staging; }

    // Stages a file with the given bytes, or a copy of a file on disk.
    void add(const std::string& name, const std::string& content);
    void add_copy(const std::string& name, const std::string& source_path,
                  Reporter& reporter = null_reporter());
    // Stages a signature of other staged bytes that carries its creation time
    // (SHA256SUMS.gpg): commit accepts an existing release whose other files
    // are the same and that has a signature under this name too, and keeps it.
    void add_signature(const std::string& name, const std::string& content);
    // Every staged file so far, sorted by name.
    std::vector<StagedFile> files() const;

    // fsyncs and renames into place (or accepts an identical existing release).
    // Throws Input naming the differing files if PARENT/NAME holds other bytes.
    CommitOutcome commit();

    // Names of the staging directories under parent that belong to no live run.
    static std::vector<std::string> stale_staging_dirs(const std::string& parent);

private:
    std::string m_parent, m_name, m_final, m_staging;
    Fd m_lock; // the staging directory itself, flock()ed
    cleanup::Registration m_registration; // removed on SIGINT/SIGTERM until renamed
    std::map<std::string, StagedFile> m_files;
    std::set<std::string> m_signatures; // names whose bytes commit does not compare
    bool m_committed = false;
};

} // namespace sysext::publish
