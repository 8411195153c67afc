#include "worker.hpp"

#include <exception>
#include <new>
#include <utility>

namespace gui {
namespace {
thread_local const Worker* tl_worker = nullptr;  // the worker whose thread this is
thread_local std::uint64_t tl_job = 0;           // the job it runs
}  // namespace

void Worker::check_cancelled() {
  if (!tl_worker) return;
  std::lock_guard lock(tl_worker->mutex_);
  if (tl_worker->submitted_ != tl_job || tl_worker->stop_) throw Cancelled();
}

Worker::Worker(std::function<void()> on_done) : on_done_(std::move(on_done)), thread_([this] { loop(); }) {}

Worker::~Worker() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
    waiting_.reset();
  }
  wake_.notify_all();
  thread_.join();
}

void Worker::submit(Job job) {
  {
    std::lock_guard lock(mutex_);
    waiting_ = std::move(job);
    ++submitted_;
    done_.reset();  // whatever finished before this is stale
  }
  wake_.notify_all();
}

std::optional<Worker::Result> Worker::take() {
  std::lock_guard lock(mutex_);
  return std::exchange(done_, std::nullopt);
}

bool Worker::busy(double* seconds) const {
  std::lock_guard lock(mutex_);
  if (seconds)
    *seconds = running_ ? std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count() : 0.0;
  return running_ || waiting_.has_value();
}

void Worker::loop() {
  tl_worker = this;
  for (;;) {
    Job job;
    std::uint64_t id = 0;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [&] { return stop_ || waiting_.has_value(); });
      if (stop_) return;
      job = std::move(*waiting_);
      waiting_.reset();
      id = submitted_;
      running_ = true;
      running_id_ = id;
      started_ = std::chrono::steady_clock::now();
    }
    Result r;
    tl_job = id;
    try {
      r.value = job();
    } catch (const std::bad_alloc&) {
      r.error = "out of memory";
    } catch (const std::exception& e) {
      r.error = e.what();
    }
    {
      std::lock_guard lock(mutex_);
      running_ = false;
      if (id == submitted_) done_ = std::move(r);  // otherwise a newer job supersedes it
    }
    if (on_done_) on_done_();
  }
}

}  // namespace gui
