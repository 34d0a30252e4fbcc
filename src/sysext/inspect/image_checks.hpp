// The checks inspect makes on an image, in the order a systemd host would
// meet them: contents and release metadata (inspect.cpp), then the dm-verity
// tree and signature of a bare image with sidecars or of a disk image
// (image_checks.cpp). Internal to inspect; each adds its findings to the
// Inspection and records failures as problems instead of throwing.
#pragma once

#include "sysext/inspect/inspect.hpp"

#include "signing/certificate.hpp"

namespace sysext::inspect {

// Reads the image (squashfs or EROFS) at [offset, offset+size) of r.path and
// its release files.
void inspect_contents(Inspection& r, uint64_t offset, uint64_t size);

// Sidecars next to a bare image: NAME.roothash, NAME.verity, NAME.roothash.p7s.
void check_sidecars(Inspection& r, const signing::Certificate* trusted);

// A GPT disk image: the partitions, then the usr partition's contents, its
// verity partition and signature partition.
void inspect_disk_image(Inspection& r, const signing::Certificate* trusted);

} // namespace sysext::inspect
