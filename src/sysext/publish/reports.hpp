// The contents reports of a release: every path of the image with mode, owner,
// size and link target (contents.txt) and file bytes by directory (usage.txt),
// read back from the image itself, so they describe exactly what ships. A disk
// image is read through its data (root) partition.
#pragma once

#include <string>

namespace sysext::publish {

struct Reports {
    std::string listing; // contents.txt
    std::string usage;   // usage.txt
};

Reports contents_reports(const std::string& image, bool disk_image);

} // namespace sysext::publish
