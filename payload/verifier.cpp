// verify_payload(): structure first, then signatures over the signed range, then
// every operation's data, rebuilding the image; see verifier.hpp for the checks.
#include "payload/verifier.hpp"

#include "payload/bzip2.hpp"
#include "payload/payload_io.hpp"
#include "payload/reader.hpp"
#include "sysext/util/atomic_file.hpp"
#include "sysext/util/error.hpp"

#include <memory>
#include <vector>

namespace sysext::payload {

namespace {

constexpr size_t k_piece = 1024 * 1024;

std::string op_name(int index) { return "operation " + std::to_string(index); }

class Verifier {
public:
    Verifier(const VerifyOptions& options, Reporter& reporter)
        : m_options(options), m_reporter(reporter), m_file(PayloadFile::open(options.payload)),
          m_manifest(m_file.manifest()) {}

    VerifyResult run() {
        m_result.payload_size = m_file.file_size();
        passed({"header", "magic", "version", "manifest size", "manifest"});
        check_layout();
        check_signatures();
        check_operation_hashes();
        rebuild_image();
        return m_result;
    }

    // The whole file's hash, which the host compares with the update server's first.
    static void check_file_hash(const std::string& path, const sysext::Digest& expected) {
        sysext::Digest actual = sha256_file(path);
        if (actual != expected)
            fail_check(path, "file hash",
                       "the payload's SHA-256 is " + to_hex(actual) + ", not the announced " +
                           to_hex(expected));
    }

private:
    [[noreturn]] void fail(const std::string& check, const std::string& detail) const {
        fail_check(m_file.path(), check, detail);
    }
    void passed(std::initializer_list<const char*> checks) {
        for (const char* c : checks)
            m_result.checks.emplace_back(c);
    }

    void check_layout() {
        uint32_t bs = m_manifest.block_size();
        if (bs == 0 || (bs & (bs - 1)) != 0)
            fail("block size", "block size " + std::to_string(bs) + " is not a power of two");
        if (m_manifest.procedures_size() != 0)
            fail("procedures", "the payload carries " +
                                   std::to_string(m_manifest.procedures_size()) +
                                   " install procedures (an OS payload's kernel?); extension "
                                   "payloads carry none");
        passed({"block size", "procedures"});

        // update_engine consumes data strictly in order: each operation's data starts
        // where the previous one's ended.
        uint64_t expected = 0;
        const uint64_t blob_area = m_file.file_size() - m_file.blob_start();
        for (int i = 0; i < m_manifest.partition_operations_size(); ++i) {
            const auto& op = m_manifest.partition_operations(i);
            if (!op.has_data_offset() || !op.has_data_length() || op.data_length() == 0)
                fail("data offsets", op_name(i) + " has no data");
            if (op.data_offset() != expected)
                fail("data offsets", op_name(i) + " data starts at offset " +
                                           std::to_string(op.data_offset()) + ", expected " +
                                           std::to_string(expected));
            expected += op.data_length();
            if (expected > blob_area)
                fail("data offsets", op_name(i) + " data ends " + std::to_string(expected) +
                                           " bytes into the blob area, but the file holds " +
                                           std::to_string(blob_area) + " (truncated?)");
        }
        if (m_manifest.partition_operations_size() == 0)
            fail("data offsets", "the payload has no operations");
        passed({"data offsets"});

        if (!m_file.has_signature_area())
            fail("signature area", "the manifest names no signature offset and size");
        if (m_manifest.signatures_offset() != expected)
            fail("signature area", "the signatures start at data offset " +
                                       std::to_string(m_manifest.signatures_offset()) +
                                       ", not right after the last operation's data at " +
                                       std::to_string(expected));
        passed({"signature area"});
        if (m_options.structure_only && m_file.is_unsigned()) {
            m_result.unsigned_payload = true; // the file ends where a signer appends
            passed({"file size"});
            check_signature_operation();
            return;
        }
        m_signature_blob = m_file.read_signature_blob();
        passed({"file size"});
        check_signature_operation();
    }

    void check_signature_operation() {
        const uint64_t offset = m_manifest.signatures_offset();
        const uint64_t size = m_manifest.signatures_size();
        if (m_manifest.noop_operations_size() != 1)
            fail("signature operation", "the manifest has " +
                                            std::to_string(m_manifest.noop_operations_size()) +
                                            " noop operations, expected exactly one");
        const auto& op = m_manifest.noop_operations(0);
        const uint64_t bs = m_manifest.block_size();
        bool ok = op.type() == pb::InstallOperation::REPLACE && op.data_offset() == offset &&
                  op.data_length() == size && op.src_extents_size() == 0 &&
                  op.dst_extents_size() == 1 &&
                  op.dst_extents(0).start_block() == k_sparse_hole &&
                  op.dst_extents(0).num_blocks() == (size + bs - 1) / bs;
        if (!ok)
            fail("signature operation",
                 "the noop operation does not describe the signature blob (REPLACE of the "
                 "signature offset and size into one extent at block 2^64-1)");
        passed({"signature operation"});
    }

    void check_signatures() {
        if (m_result.unsigned_payload)
            return; // nothing to check until a signer appends the signatures
        pb::Signatures signatures;
        if (!signatures.ParseFromString(m_signature_blob))
            fail("signatures", "the signature blob is not a valid Signatures protobuf");
        const int count = signatures.signatures_size();
        if (count == 0)
            fail("signatures", "the signature blob holds no signatures");
        for (int i = 0; i < count; ++i)
            if (!signatures.signatures(i).has_data() || signatures.signatures(i).data().empty())
                fail("signatures", "signature " + std::to_string(i) + " has no data");
        passed({"signatures"});

        // Versions count up so that the last is 2: update_engine checks only the
        // signature of version 2 (payload_signer.cc), ue-rs accepts any that verifies.
        for (int i = 0; i < count; ++i) {
            const auto& sig = signatures.signatures(i);
            int64_t want = int64_t{k_last_signature_version} + 1 - count + i;
            if (!sig.has_version() || sig.version() != want)
                fail("signature versions",
                     "signature " + std::to_string(i) + " of " + std::to_string(count) +
                         " has version " +
                         (sig.has_version() ? std::to_string(sig.version()) : "(none)") +
                         ", expected " + std::to_string(want) + " (the last is version 2)");
        }
        passed({"signature versions"});

        if (m_options.structure_only)
            return;
        if (m_options.public_keys.empty())
            throw_usage("verifying a payload needs at least one public key");
        m_reporter.stage("checking signatures");
        m_result.signed_hash = hash_prefix(m_file.fd(), m_file.signed_size(), m_file.path());
        for (const auto& key : m_options.public_keys) {
            bool found = false;
            for (int i = 0; i < count && !found; ++i) {
                if (signing::verify_sha256_digest(key, m_result.signed_hash,
                                                  signatures.signatures(i).data())) {
                    m_result.matches.push_back({key.description(), signatures.signatures(i).version()});
                    found = true;
                }
            }
            if (!found)
                fail("signature", "none of the " + std::to_string(count) +
                                      " signatures verifies with the " + key.description() +
                                      " (wrong key, or the signed range was modified)");
        }
        m_result.signatures = static_cast<size_t>(count);
        passed({"signature"});
    }

    // Visits [offset, offset + size) of the blob area in bounded pieces.
    template <typename Fn>
    void for_each_piece(uint64_t offset, uint64_t size, const std::string& check, Fn&& fn) {
        std::vector<char> buf(k_piece);
        for (uint64_t done = 0; done < size;) {
            size_t want = static_cast<size_t>(std::min<uint64_t>(buf.size(), size - done));
            uint64_t at = m_file.blob_start() + offset + done;
            size_t got = pread_full(m_file.fd(), buf.data(), want, static_cast<off_t>(at),
                                    m_file.path());
            if (got != want)
                fail(check, "the file ends at byte " + std::to_string(at + got));
            fn(buf.data(), got);
            done += got;
        }
    }

    void check_operation_hashes() {
        m_reporter.stage("checking operation hashes");
        for (int i = 0; i < m_manifest.partition_operations_size(); ++i) {
            const auto& op = m_manifest.partition_operations(i);
            if (op.data_sha256_hash().size() != sysext::Digest{}.size())
                fail("operation hash", op_name(i) + " carries no SHA-256 of its data");
            Sha256 hasher;
            for_each_piece(op.data_offset(), op.data_length(), "operation hash",
                           [&](const char* p, size_t n) { hasher.update(p, n); });
            sysext::Digest got = hasher.finish();
            if (std::string_view(reinterpret_cast<const char*>(got.data()), got.size()) !=
                op.data_sha256_hash())
                fail("operation hash", op_name(i) + " data hashes to " + to_hex(got) +
                                           ", the manifest says " +
                                           to_hex(op.data_sha256_hash().data(),
                                                  op.data_sha256_hash().size()));
        }
        passed({"operation hash"});
    }

    // The bytes operation i must produce at image_offset, after checking its one
    // dst extent: in order, inside the image. Flatcar's generator (update_engine's
    // full_update_generator.cc) declares every extent a whole chunk, the image's
    // last, partial one too, and its clients write only the operation's data:
    // update_engine's extent writer refuses data longer than the extent but not
    // shorter; ue-rs ignores num_blocks and hashes every byte it wrote. So the last
    // extent may run past the image's end up to the end of its 1 MiB chunk, while
    // its data must end exactly at the image's end.
    uint64_t check_extent(int i, const pb::InstallOperation& op, uint64_t image_offset,
                          uint64_t image_size) {
        const uint64_t bs = m_manifest.block_size();
        if (op.type() != pb::InstallOperation::REPLACE &&
            op.type() != pb::InstallOperation::REPLACE_BZ)
            fail("operation extents", op_name(i) + " is " + operation_type_name(op.type()) +
                                          ", which full payloads do not use");
        if (op.dst_extents_size() != 1 || op.src_extents_size() != 0)
            fail("operation extents", op_name(i) + " has " +
                                          std::to_string(op.dst_extents_size()) +
                                          " destination extents; the host needs exactly one");
        const auto& extent = op.dst_extents(0);
        if (extent.start_block() > UINT64_MAX / bs ||
            extent.start_block() * bs != image_offset)
            fail("operation extents", op_name(i) + " writes at block " +
                                          std::to_string(extent.start_block()) +
                                          ", expected block " + std::to_string(image_offset / bs) +
                                          " (operations must cover the image in order)");
        const uint64_t left = image_size - image_offset;
        const std::string writes = op_name(i) + " writes " + std::to_string(extent.num_blocks()) +
                                   " blocks at block " + std::to_string(extent.start_block());
        if (extent.num_blocks() == 0)
            fail("operation extents", writes + ": an empty extent");
        if (extent.num_blocks() <= left / bs)
            return extent.num_blocks() * bs;
        // Past the image's end: only the last operation, and only within its chunk.
        const uint64_t tail = image_size % k_chunk_size;
        const uint64_t chunk_end = tail == 0 || image_size > UINT64_MAX - k_chunk_size
                                       ? image_size
                                       : image_size - tail + k_chunk_size;
        const bool last = i == m_manifest.partition_operations_size() - 1;
        if (!last)
            fail("operation extents", writes + ", past the image's " + std::to_string(image_size) +
                                          " bytes (only the last operation may reach into the "
                                          "rest of the image's last 1 MiB chunk)");
        if (extent.num_blocks() > (chunk_end - image_offset) / bs)
            fail("operation extents", writes + ", past the image's " + std::to_string(image_size) +
                                          " bytes and the end of its last 1 MiB chunk (block " +
                                          std::to_string(chunk_end / bs) + ")");
        return left;
    }

    void rebuild_image() {
        if (!m_manifest.has_new_partition_info() || !m_manifest.new_partition_info().has_size() ||
            m_manifest.new_partition_info().hash().size() != sysext::Digest{}.size())
            fail("partition info", "the manifest has no new_partition_info size and SHA-256");
        passed({"partition info"});
        const uint64_t image_size = m_manifest.new_partition_info().size();

        std::unique_ptr<AtomicFile> out;
        if (!m_options.extract.empty())
            out = std::make_unique<AtomicFile>(m_options.extract);
        Sha256 image_hasher;
        uint64_t image_offset = 0;
        m_reporter.stage("rebuilding the image");
        for (int i = 0; i < m_manifest.partition_operations_size(); ++i) {
            const auto& op = m_manifest.partition_operations(i);
            if (image_offset >= image_size)
                fail("image size", op_name(i) + " writes past the image's " +
                                       std::to_string(image_size) + " bytes");
            const uint64_t length = check_extent(i, op, image_offset, image_size);
            const std::string wanted =
                std::to_string(length) +
                (length == image_size - image_offset ? " bytes up to the image's end"
                                                     : " bytes of its extent");
            uint64_t written = 0;
            auto emit = [&](const char* p, size_t n) {
                if (n > length - written)
                    fail("operation data", op_name(i) + " produces more than the " + wanted);
                image_hasher.update(p, n);
                if (out)
                    out->write(p, n);
                written += n;
            };
            if (op.type() == pb::InstallOperation::REPLACE_BZ) {
                Bzip2Decoder decoder;
                try {
                    for_each_piece(op.data_offset(), op.data_length(), "operation data",
                                   [&](const char* p, size_t n) { decoder.feed(p, n, emit); });
                    decoder.finish();
                } catch (const Bzip2Error& e) {
                    fail("operation data", op_name(i) + ": " + e.what());
                }
            } else {
                for_each_piece(op.data_offset(), op.data_length(), "operation data", emit);
            }
            if (written != length)
                fail("operation data", op_name(i) + " produces " + std::to_string(written) +
                                           " bytes, not the " + wanted);
            image_offset += length;
            m_reporter.progress(image_offset, image_size);
        }
        passed({"operation extents", "operation data"});
        if (image_offset != image_size)
            fail("image size", "the operations rebuild " + std::to_string(image_offset) +
                                   " bytes, new_partition_info says " + std::to_string(image_size));
        passed({"image size"});
        m_result.image_hash = image_hasher.finish();
        const std::string& want = m_manifest.new_partition_info().hash();
        if (std::string_view(reinterpret_cast<const char*>(m_result.image_hash.data()), 32) != want)
            fail("image hash", "the rebuilt image hashes to " + to_hex(m_result.image_hash) +
                                   ", new_partition_info says " + to_hex(want.data(), want.size()));
        passed({"image hash"});
        m_result.image_size = image_size;
        m_result.operations = static_cast<size_t>(m_manifest.partition_operations_size());
        if (out)
            out->commit();
    }

    const VerifyOptions& m_options;
    Reporter& m_reporter;
    PayloadFile m_file;
    const pb::DeltaArchiveManifest& m_manifest;
    std::string m_signature_blob;
    VerifyResult m_result;
};

} // namespace

VerifyResult verify_payload(const VerifyOptions& options, Reporter& reporter) {
    if (options.public_keys.empty() && !options.structure_only)
        throw_usage("verifying a payload needs at least one public key");
    if (options.file_sha256)
        Verifier::check_file_hash(options.payload, *options.file_sha256);
    VerifyResult result = Verifier(options, reporter).run();
    if (options.file_sha256)
        result.checks.insert(result.checks.begin(), "file hash");
    return result;
}

} // namespace sysext::payload
