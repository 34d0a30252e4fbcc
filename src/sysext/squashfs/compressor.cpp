#include "sysext/squashfs/compressor.hpp"

#include "sysext/util/sha256.hpp"

#include <climits>
#include <cstdlib>
#include <cstring>
#include <dlfcn.h>
#include <memory>
#include <type_traits>
#include <vector>

namespace sysext::squashfs {

namespace {

// Bump when anything about what the wrapper returns changes.
constexpr const char* k_context_version = "sysext-build squashfs block v1";

// What a wrapper with a cache needs; one per copy, since the decompressor and
// its buffer serve one worker thread.
struct CacheUse {
    BlockCache* cache;
    std::shared_ptr<const std::string> context; // see cache_context
    SqfsPtr<sqfs_compressor_t> checker;         // decompresses hits to check them
    std::vector<sqfs_u8> scratch;               // a hit's decompressed bytes
};

// Only pointers, so that it stays standard-layout and `base` stays at its start.
struct Wrapped {
    sqfs_compressor_t base; // first member: libsquashfs casts between the two
    sqfs_compressor_t* inner;
    CacheUse* use; // owned; null without a cache
};
static_assert(std::is_standard_layout_v<Wrapped>);

Wrapped* wrapped(const sqfs_compressor_t* c) {
    return reinterpret_cast<Wrapped*>(const_cast<sqfs_compressor_t*>(c));
}

sqfs_compressor_t* inner_of(const sqfs_compressor_t* c) {
    return wrapped(c)->inner;
}

sqfs_compressor_t* make(SqfsPtr<sqfs_compressor_t> inner, std::unique_ptr<CacheUse> use);

void destroy(sqfs_object_t* obj) {
    auto* w = reinterpret_cast<Wrapped*>(obj);
    sqfs_destroy(w->inner);
    delete w->use;
    delete w;
}

// libsquashfs calls these hooks from C: nothing may be thrown through it, so the
// only exception left (out of memory) becomes its error value.
sqfs_object_t* copy_wrapped(const sqfs_object_t* obj);
sqfs_s32 do_cached_block(sqfs_compressor_t* c, const sqfs_u8* in, sqfs_u32 size, sqfs_u8* out,
                         sqfs_u32 outsize);

sqfs_object_t* copy(const sqfs_object_t* obj) {
    try {
        return copy_wrapped(obj);
    } catch (...) {
        return nullptr;
    }
}

sqfs_s32 do_block(sqfs_compressor_t* c, const sqfs_u8* in, sqfs_u32 size, sqfs_u8* out,
                  sqfs_u32 outsize) {
    try {
        return do_cached_block(c, in, size, out, outsize);
    } catch (...) {
        return SQFS_ERROR_ALLOC;
    }
}

sqfs_object_t* copy_wrapped(const sqfs_object_t* obj) {
    const auto* w = reinterpret_cast<const Wrapped*>(obj);
    SqfsPtr<sqfs_compressor_t> inner(static_cast<sqfs_compressor_t*>(sqfs_copy(w->inner)));
    if (!inner)
        return nullptr;
    std::unique_ptr<CacheUse> use;
    if (w->use) {
        SqfsPtr<sqfs_compressor_t> checker(
            static_cast<sqfs_compressor_t*>(sqfs_copy(w->use->checker.get())));
        if (!checker)
            return nullptr;
        use.reset(new CacheUse{w->use->cache, w->use->context, std::move(checker), {}});
    }
    return reinterpret_cast<sqfs_object_t*>(make(std::move(inner), std::move(use)));
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

sqfs_s32 compress(sqfs_compressor_t* c, const sqfs_u8* in, sqfs_u32 size, sqfs_u8* out,
                  sqfs_u32 outsize) {
    sqfs_s32 ret = inner_of(c)->do_block(inner_of(c), in, size, out, outsize);
    if (ret > 0 && static_cast<sqfs_u32>(ret) >= size)
        return 0; // not smaller: store the block raw
    return ret;
}

// Whether a cached value is an answer for this block: empty ("store raw"), or
// smaller than the block and decompressing to exactly its bytes. The entry's
// own hash already catches damage; this also catches an entry that is whole
// but wrong (a bug, a hand-made file), so no such entry reaches an image.
bool answers(CacheUse& use, const std::string& value, const sqfs_u8* in, sqfs_u32 size,
             sqfs_u32 outsize) {
    if (value.empty())
        return true;
    if (value.size() >= size || value.size() > outsize)
        return false;
    use.scratch.resize(size);
    sqfs_compressor_t* checker = use.checker.get();
    sqfs_s32 got = checker->do_block(checker, reinterpret_cast<const sqfs_u8*>(value.data()),
                                     static_cast<sqfs_u32>(value.size()), use.scratch.data(), size);
    return got == static_cast<sqfs_s32>(size) && std::memcmp(use.scratch.data(), in, size) == 0;
}

sqfs_s32 do_cached_block(sqfs_compressor_t* c, const sqfs_u8* in, sqfs_u32 size, sqfs_u8* out,
                         sqfs_u32 outsize) {
    CacheUse* use = wrapped(c)->use;
    if (use == nullptr)
        return compress(c, in, size, out, outsize);
    // The output space is part of the key: an inner compressor may give up
    // (return 0) for a smaller buffer where it succeeds with a larger one.
    const std::string context = *use->context + ";out=" + std::to_string(outsize);
    const Digest key = block_cache_key(context, in, size);
    if (auto value = use->cache->get(key)) {
        if (answers(*use, *value, in, size, outsize)) {
            std::memcpy(out, value->data(), value->size());
            return static_cast<sqfs_s32>(value->size());
        }
        use->cache->reject(key);
    }
    sqfs_s32 ret = compress(c, in, size, out, outsize);
    if (ret >= 0)
        use->cache->put(
            key, std::string_view(reinterpret_cast<const char*>(out), static_cast<size_t>(ret)));
    return ret;
}

sqfs_compressor_t* make(SqfsPtr<sqfs_compressor_t> inner, std::unique_ptr<CacheUse> use) {
    auto* w = new Wrapped{};
    w->base.base.destroy = destroy;
    w->base.base.copy = copy;
    w->base.get_configuration = get_configuration;
    w->base.write_options = write_options;
    w->base.read_options = read_options;
    w->base.do_block = do_block;
    w->inner = inner.release();
    w->use = use.release();
    return &w->base;
}

// The file (symlinks resolved, so it carries the version) of the loaded
// library defining `symbol`; "" when no loaded library defines it.
std::string library_of(const char* symbol) {
    void* addr = ::dlsym(RTLD_DEFAULT, symbol);
    Dl_info info{};
    if (addr == nullptr || ::dladdr(addr, &info) == 0 || info.dli_fname == nullptr)
        return "";
    char resolved[PATH_MAX];
    if (::realpath(info.dli_fname, resolved) == nullptr)
        return info.dli_fname;
    return resolved;
}

const char* version_symbol(uint16_t id) {
    switch (id) {
    case SQFS_COMP_GZIP:
        return "zlibVersion";
    case SQFS_COMP_XZ:
    case SQFS_COMP_LZMA:
        return "lzma_version_string";
    case SQFS_COMP_LZ4:
        return "LZ4_versionString";
    case SQFS_COMP_ZSTD:
        return "ZSTD_versionString";
    default:
        return "";
    }
}

// 16 KiB of compressible, deterministic text-like bytes.
std::vector<sqfs_u8> probe_block() {
    std::vector<sqfs_u8> block(16384);
    uint32_t state = 0x5eed;
    for (auto& b : block) {
        state = state * 1103515245u + 12345u;
        b = static_cast<sqfs_u8>('a' + (state >> 16) % 12);
    }
    return block;
}

} // namespace

std::string cache_context(sqfs_compressor_t* inner) {
    sqfs_compressor_config_t cfg;
    std::memset(&cfg, 0, sizeof cfg);
    inner->get_configuration(inner, &cfg);
    std::string ctx = k_context_version;
    ctx += ";id=" + std::to_string(cfg.id) + ";flags=" + std::to_string(cfg.flags) +
           ";block=" + std::to_string(cfg.block_size) + ";level=" + std::to_string(cfg.level) +
           ";opt=" + to_hex(&cfg.opt, sizeof cfg.opt);
    ctx += ";sqfs=" + library_of("sqfs_compressor_create");
    ctx += ";lib=" + library_of(version_symbol(cfg.id));

    std::vector<sqfs_u8> probe = probe_block();
    std::vector<sqfs_u8> out(probe.size());
    SqfsPtr<sqfs_compressor_t> scratch(static_cast<sqfs_compressor_t*>(sqfs_copy(inner)));
    sqfs_s32 ret = -1;
    if (scratch)
        ret = scratch->do_block(scratch.get(), probe.data(), static_cast<sqfs_u32>(probe.size()),
                                out.data(), static_cast<sqfs_u32>(out.size()));
    ctx += ";probe=" + std::to_string(ret);
    if (ret > 0)
        ctx += ":" + to_hex(sha256(out.data(), static_cast<size_t>(ret)));
    return ctx;
}

SqfsPtr<sqfs_compressor_t> wrap_compressor(SqfsPtr<sqfs_compressor_t> inner, BlockCache* cache) {
    std::unique_ptr<CacheUse> use;
    if (cache) {
        sqfs_compressor_config_t cfg;
        std::memset(&cfg, 0, sizeof cfg);
        inner->get_configuration(inner.get(), &cfg);
        cfg.flags |= SQFS_COMP_FLAG_UNCOMPRESS;
        sqfs_compressor_t* checker = nullptr;
        check(sqfs_compressor_create(&cfg, &checker), "creating the cache's decompressor");
        use.reset(new CacheUse{cache,
                               std::make_shared<const std::string>(cache_context(inner.get())),
                               SqfsPtr<sqfs_compressor_t>(checker),
                               {}});
    }
    return SqfsPtr<sqfs_compressor_t>(make(std::move(inner), std::move(use)));
}

} // namespace sysext::squashfs
