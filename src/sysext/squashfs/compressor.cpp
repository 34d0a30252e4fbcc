#include "sysext/squashfs/compressor.hpp"

namespace sysext::squashfs {

namespace {

struct Wrapped {
    sqfs_compressor_t base; // first member: libsquashfs casts between the two
    sqfs_compressor_t* inner;
};

sqfs_compressor_t* inner_of(const sqfs_compressor_t* c) {
    return reinterpret_cast<const Wrapped*>(c)->inner;
}

sqfs_compressor_t* make(sqfs_compressor_t* inner);

void destroy(sqfs_object_t* obj) {
    auto* w = reinterpret_cast<Wrapped*>(obj);
    sqfs_destroy(w->inner);
    delete w;
}

sqfs_object_t* copy(const sqfs_object_t* obj) {
    auto* inner = static_cast<sqfs_compressor_t*>(
        sqfs_copy(reinterpret_cast<const Wrapped*>(obj)->inner));
    if (inner == nullptr)
        return nullptr;
    return reinterpret_cast<sqfs_object_t*>(make(inner));
}

void get_configuration(const sqfs_compressor_t* c, sqfs_compressor_config_t* cfg) {
    inner_of(c)->get_configuration(inner_of(c), cfg);
}

int write_options(sqfs_compressor_t* c, sqfs_file_t* file) {
    return inner_of(c)->write_options(inner_of(c), file);
}

int read_options(sqfs_compressor_t* c, sqfs_file_t* file) {
    return inner_of(c)->read_options(inner_of(c), file);
}

sqfs_s32 do_block(sqfs_compressor_t* c, const sqfs_u8* in, sqfs_u32 size, sqfs_u8* out,
                  sqfs_u32 outsize) {
    sqfs_s32 ret = inner_of(c)->do_block(inner_of(c), in, size, out, outsize);
    if (ret > 0 && static_cast<sqfs_u32>(ret) >= size)
        return 0; // not smaller: store the block raw
    return ret;
}

sqfs_compressor_t* make(sqfs_compressor_t* inner) {
    auto* w = new Wrapped{};
    w->base.base.destroy = destroy;
    w->base.base.copy = copy;
    w->base.get_configuration = get_configuration;
    w->base.write_options = write_options;
    w->base.read_options = read_options;
    w->base.do_block = do_block;
    w->inner = inner;
    return &w->base;
}

} // namespace

SqfsPtr<sqfs_compressor_t> wrap_compressor(SqfsPtr<sqfs_compressor_t> inner) {
    return SqfsPtr<sqfs_compressor_t>(make(inner.release()));
}

} // namespace sysext::squashfs
