#include "sysext/util/reporter.hpp"

namespace sysext {

Reporter& null_reporter() {
    static Reporter r;
    return r;
}

} // namespace sysext
