#include "sysext/publish/reports.hpp"

#include "sysext/ddi/disk_image.hpp"
#include "sysext/ddi/gpt.hpp"
#include "sysext/inspect/contents.hpp"
#include "sysext/image/reader.hpp"
#include "sysext/util/error.hpp"
#include "sysext/util/fd.hpp"

#include <fcntl.h>
#include <sys/stat.h>

namespace sysext::publish {

Reports contents_reports(const std::string& image, bool disk_image) {
    uint64_t offset = 0, size = 0;
    if (disk_image) {
        Fd fd = open_or_throw(image, O_RDONLY | O_CLOEXEC);
        struct stat st;
        if (::fstat(fd.get(), &st) != 0)
            throw_errno(image);
        auto data = ddi::find_data_partitions(
                        ddi::read_gpt(fd.get(), static_cast<uint64_t>(st.st_size), image), image)
                        .data;
        offset = data.offset();
        size = data.size();
    }
    auto listing = image::read_image(image, offset, size);
    Reports r;
    r.listing =
        "# MODE UID:GID SIZE PATH [-> TARGET]\n" + inspect::contents_listing(listing.entries);
    r.usage = "# BYTES<TAB>DIRECTORY (regular file bytes below it, hard links once)\n" +
              inspect::usage_by_directory(listing.entries, 3);
    return r;
}

} // namespace sysext::publish
