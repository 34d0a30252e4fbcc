// GPT disk images as verify and inspect read them: read_gpt on the bytes as
// a file, and again with the CRCs made right (gpt_fixup.hpp) so the checks
// behind them are reached; then find_data_partitions and the usr-partition
// rule on what was read.
#include "fuzz_util.hpp"
#include "gpt_fixup.hpp"

#include "sysext/ddi/disk_image.hpp"
#include "sysext/util/fd.hpp"

#include <fcntl.h>

namespace {

void read_disk(const std::string& path) {
    using namespace sysext;
    Fd fd = open_or_throw(path, O_RDONLY | O_CLOEXEC);
    if (!ddi::looks_like_gpt(fd.get()))
        return;
    ddi::GptDisk disk = ddi::read_gpt(fd.get(), file_size(fd.get(), path), path);
    ddi::DataPartitions parts = ddi::find_data_partitions(disk, path);
    parts.data_name();
    ddi::usr_partition_problem(parts, path);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    using namespace sysext;
    const std::string input(fuzz::bytes(data, size));
    const std::string path = fuzz::write_input("disk.raw", input);
    fuzz::refusal_expected([&] { read_disk(path); });
    std::string fixed = fuzz::fix_gpt_crcs(input);
    if (fixed != input) {
        fuzz::write_input("disk.raw", fixed);
        fuzz::refusal_expected([&] { read_disk(path); });
    }
    return 0;
}
