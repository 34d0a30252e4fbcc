// How many threads "one per core" means for this process.
#pragma once

namespace sysext {

// The cores this process may run on (its CPU affinity), at least 1: the
// writers' thread count for --jobs 0.
unsigned usable_cores();

} // namespace sysext
