// Worker threads whose results are taken in the order the work was given.
//
// The EROFS writer compresses segments on any thread, but writes them in
// submission order, so the image does not depend on the number of threads.
// At most `backlog` results wait at a time, which bounds memory.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <future>
#include <mutex>
#include <thread>
#include <vector>

namespace sysext::erofs {

template <class R> class OrderedPool {
public:
    OrderedPool(unsigned threads, size_t backlog) : m_backlog(backlog ? backlog : 1) {
        for (unsigned i = 0; i < (threads ? threads : 1); ++i)
            m_threads.emplace_back([this] { work(); });
    }
    OrderedPool(const OrderedPool&) = delete;
    OrderedPool& operator=(const OrderedPool&) = delete;
    ~OrderedPool() {
        {
            std::lock_guard lock(m_mutex);
            m_stop = true;
            m_queue.clear(); // after a failure: work not started is dropped
        }
        m_wake.notify_all();
        for (auto& t : m_threads)
            t.join();
    }

    // Queues work; first hands finished results to take, oldest first, while
    // the backlog is full. An exception thrown by work reaches the caller here
    // or in drain(), when its result's turn comes.
    template <class Take> void submit(std::function<R()> work, Take&& take) {
        while (m_pending.size() >= m_backlog)
            take_front(take);
        std::packaged_task<R()> task(std::move(work));
        m_pending.push_back(task.get_future());
        {
            std::lock_guard lock(m_mutex);
            m_queue.push_back(std::move(task));
        }
        m_wake.notify_one();
    }

    template <class Take> void drain(Take&& take) {
        while (!m_pending.empty())
            take_front(take);
    }

private:
    template <class Take> void take_front(Take& take) {
        std::future<R> f = std::move(m_pending.front());
        m_pending.pop_front();
        R r = f.get();
        take(r);
    }

    void work() {
        for (;;) {
            std::packaged_task<R()> task;
            {
                std::unique_lock lock(m_mutex);
                m_wake.wait(lock, [this] { return m_stop || !m_queue.empty(); });
                if (m_stop)
                    return;
                task = std::move(m_queue.front());
                m_queue.pop_front();
            }
            task();
        }
    }

    size_t m_backlog;
    std::deque<std::future<R>> m_pending;
    std::mutex m_mutex;
    std::condition_variable m_wake;
    std::deque<std::packaged_task<R()>> m_queue;
    bool m_stop = false;
    std::vector<std::thread> m_threads;
};

} // namespace sysext::erofs
