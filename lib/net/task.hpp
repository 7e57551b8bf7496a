#pragma once
// A type-erased, move-only piece of work run once: what the worker pools,
// the return lane and the Background executor queue. Its `next` link lets
// the return lane's lock-free stack hold it without another allocation.
// Header only.

#include <memory>
#include <utility>

namespace fitbridge::net {

struct Task {
    virtual ~Task() = default;
    virtual void run() = 0;
    Task* next = nullptr;  // free for an intrusive list
};

// `f` (a callable taking nothing) as a Task.
template <typename F>
std::unique_ptr<Task> make_task(F f) {
    struct Holder final : Task {
        explicit Holder(F g) : fn(std::move(g)) {}
        void run() override { fn(); }
        F fn;
    };
    return std::make_unique<Holder>(std::move(f));
}

}  // namespace fitbridge::net
