#include "payload/chunk_compressor.hpp"

#include "payload/bzip2.hpp"
#include "sysext/util/error.hpp"
#include "sysext/util/fd.hpp"

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <exception>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace sysext::payload {

namespace {

struct Slot {
    Chunk chunk;
    bool done = false;
    std::exception_ptr error;
};

// Worker threads and the chunks in flight. The destructor stops and joins the
// workers before any slot they might touch is freed, so an exception anywhere
// unwinds safely.
class Pool {
public:
    Pool(unsigned threads, BlockCache* cache) : m_cache(cache) {
        if (m_cache)
            m_context = bzip2_cache_context();
        for (unsigned i = 0; i < threads; ++i)
            m_threads.emplace_back([this] { work(); });
    }
    Pool(const Pool&) = delete;
    Pool& operator=(const Pool&) = delete;
    ~Pool() {
        {
            std::lock_guard lock(m_mutex);
            m_stopping = true;
        }
        m_work_ready.notify_all();
        for (auto& t : m_threads)
            t.join();
    }

    void submit(Slot* slot) {
        {
            std::lock_guard lock(m_mutex);
            m_queue.push_back(slot);
        }
        m_work_ready.notify_one();
    }

    void wait(Slot* slot) {
        std::unique_lock lock(m_mutex);
        m_work_done.wait(lock, [slot] { return slot->done; });
        if (slot->error)
            std::rethrow_exception(slot->error);
    }

private:
    void work() {
        for (;;) {
            Slot* slot = nullptr;
            {
                std::unique_lock lock(m_mutex);
                m_work_ready.wait(lock, [this] { return m_stopping || !m_queue.empty(); });
                if (m_stopping)
                    return;
                slot = m_queue.front();
                m_queue.pop_front();
            }
            std::exception_ptr error;
            try {
                compress(slot->chunk, m_cache, m_context);
            } catch (...) {
                error = std::current_exception();
            }
            {
                std::lock_guard lock(m_mutex);
                slot->error = error;
                slot->done = true;
            }
            m_work_done.notify_all();
        }
    }

    static void compress(Chunk& chunk, BlockCache* cache, const std::string& context) {
        // One pass over the chunk: its hash keys the cache and is the stored
        // form's hash when the chunk is stored raw (most chunks of an image
        // that is compressed already).
        const Digest input_hash = sysext::sha256(chunk.input);
        Digest key{};
        if (cache) {
            key = block_cache_key(context, input_hash.data(), input_hash.size());
            if (auto value = cache->get(key)) {
                if (from_cache(chunk, *value, input_hash))
                    return;
                cache->reject(key);
            }
        }
        chunk.compressed = bzip2_compress_if_smaller(chunk.input, chunk.stored);
        if (chunk.compressed) {
            chunk.stored_hash = sysext::sha256(chunk.stored);
        } else {
            chunk.stored = chunk.input;
            chunk.stored_hash = input_hash;
        }
        if (cache)
            cache->put(key, chunk.compressed ? "B" + chunk.stored : std::string("R"));
    }

    // False for a value that is no answer for this chunk (then it is compressed
    // again, as for a miss). A bzip2 stream from the cache is decompressed and
    // compared with the chunk before it is used: a wrong entry, however well
    // formed, must never reach a payload that is then signed. "R" (stored raw)
    // cannot be wrong about the content: the chunk itself is stored.
    static bool from_cache(Chunk& chunk, const std::string& value, const Digest& input_hash) {
        if (value == "R") {
            chunk.compressed = false;
            chunk.stored = chunk.input;
            chunk.stored_hash = input_hash;
            return true;
        }
        if (value.size() > 1 && value[0] == 'B' && value.size() - 1 < chunk.input.size() &&
            decompresses_to(std::string_view(value).substr(1), chunk.input)) {
            chunk.compressed = true;
            chunk.stored = value.substr(1);
            chunk.stored_hash = sysext::sha256(chunk.stored);
            return true;
        }
        return false;
    }

    // Whether `stream` is one bzip2 stream whose output is exactly `expected`.
    static bool decompresses_to(std::string_view stream, std::string_view expected) {
        size_t at = 0;
        bool same = true;
        try {
            Bzip2Decoder decoder;
            decoder.feed(stream.data(), stream.size(), [&](const char* data, size_t size) {
                if (!same || size > expected.size() - at ||
                    expected.compare(at, size, std::string_view(data, size)) != 0)
                    same = false;
                else
                    at += size;
            });
            decoder.finish();
        } catch (const Error&) {
            return false;
        }
        return same && at == expected.size();
    }

    std::mutex m_mutex;
    std::condition_variable m_work_ready;
    std::condition_variable m_work_done;
    std::deque<Slot*> m_queue;
    bool m_stopping = false;
    std::vector<std::thread> m_threads;
    BlockCache* m_cache;
    std::string m_context;
};

} // namespace

unsigned effective_jobs(unsigned jobs) {
    if (jobs > k_max_jobs)
        throw_usage(std::to_string(jobs) + " compression threads asked for; at most " +
                    std::to_string(k_max_jobs) + " are allowed");
    if (jobs > 0)
        return jobs;
    unsigned cores = std::thread::hardware_concurrency();
    return cores > 0 ? cores : 1;
}

void compress_chunks(int fd, const std::string& what, uint64_t size, uint64_t chunk_size,
                     unsigned jobs, const ChunkSink& sink, Reporter& reporter, BlockCache* cache) {
    // No more threads than chunks: a small image needs no pool of 64.
    const uint64_t chunks = (size + chunk_size - 1) / chunk_size;
    const auto threads =
        static_cast<unsigned>(std::max<uint64_t>(1, std::min<uint64_t>(effective_jobs(jobs), chunks)));
    // Two chunks per thread keep every worker busy while the caller writes.
    const size_t window = 2 * static_cast<size_t>(threads);
    std::deque<std::unique_ptr<Slot>> in_flight;
    Pool pool(threads, cache);

    uint64_t handed_out = 0;
    auto take_front = [&] {
        Slot* front = in_flight.front().get();
        pool.wait(front);
        sink(front->chunk);
        handed_out += front->chunk.input.size();
        reporter.progress(handed_out, size);
        in_flight.pop_front();
    };

    for (uint64_t offset = 0; offset < size; offset += chunk_size) {
        if (in_flight.size() >= window)
            take_front();
        auto slot = std::make_unique<Slot>();
        slot->chunk.offset = offset;
        slot->chunk.input.resize(static_cast<size_t>(std::min(chunk_size, size - offset)));
        size_t got = pread_full(fd, slot->chunk.input.data(), slot->chunk.input.size(),
                                static_cast<off_t>(offset), what);
        if (got != slot->chunk.input.size())
            throw_input(what + ": the file shrank while it was being read");
        pool.submit(slot.get());
        in_flight.push_back(std::move(slot));
    }
    while (!in_flight.empty())
        take_front();
}

} // namespace sysext::payload
