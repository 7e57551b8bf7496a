#include "core/side_by_side.hpp"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

namespace fitbridge {

namespace {

constexpr size_t k_helpers = 7;

struct Job {
    Job(size_t count, const std::function<void(size_t)>& w) : n(count), work(w) {}
    const size_t n;
    const std::function<void(size_t)>& work;
    std::atomic<size_t> next{0};
    size_t helping = 0;  // helpers inside drain (under Helpers::m_mutex)

    void drain() {
        for (size_t i = next++; i < n; i = next++) work(i);
    }
    bool has_more() const { return next.load() < n; }
};

class Helpers {
public:
    void run(size_t n, const std::function<void(size_t)>& work) {
        Job job(n, work);
        {
            std::lock_guard lock(m_mutex);
            if (!m_started) start();
            m_jobs.push_back(&job);
        }
        for (size_t i = 0; i < std::min(n - 1, k_helpers); ++i) m_wake.notify_one();
        job.drain();
        // Every index is taken; wait for those a helper is still running.
        // Off the list first, so no helper joins it from now on.
        std::unique_lock lock(m_mutex);
        m_jobs.erase(std::find(m_jobs.begin(), m_jobs.end(), &job));
        m_done.wait(lock, [&] { return job.helping == 0; });
    }

private:
    void start() {
        for (size_t i = 0; i < k_helpers; ++i) std::thread([this] { help(); }).detach();
        m_started = true;
    }
    Job* open_job() {
        for (Job* j : m_jobs)
            if (j->has_more()) return j;
        return nullptr;
    }
    void help() {
        std::unique_lock lock(m_mutex);
        for (;;) {
            m_wake.wait(lock, [&] { return open_job() != nullptr; });
            Job* job = open_job();
            ++job->helping;
            lock.unlock();
            job->drain();
            lock.lock();
            if (--job->helping == 0) m_done.notify_all();
        }
    }

    std::mutex m_mutex;
    std::condition_variable m_wake;  // a job with indices left
    std::condition_variable m_done;  // a job's last helper left it
    std::vector<Job*> m_jobs;
    bool m_started = false;
};

}  // namespace

void for_each_side_by_side(size_t n, const std::function<void(size_t)>& work) {
    if (n == 0) return;
    if (n == 1) return work(0);
    // Never destroyed: the helpers sleep until the process ends.
    static Helpers* helpers = new Helpers;
    helpers->run(n, work);
}

}  // namespace fitbridge
