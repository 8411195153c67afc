#include "parallel.hpp"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <cstdlib>
#include <exception>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace attn {
namespace {

thread_local bool tl_in_loop = false;

int default_threads() {
  if (const char* e = std::getenv("ATTNSCOPE_THREADS")) {
    const int n = std::atoi(e);
    if (n >= 1 && n <= 256) return n;
  }
  return static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

class Pool {
 public:
  explicit Pool(int threads) {
    for (int i = 1; i < threads; ++i) workers_.emplace_back([this] { worker(); });
  }
  ~Pool() {
    {
      std::lock_guard lock(mutex_);
      stop_ = true;
    }
    wake_.notify_all();
    for (auto& t : workers_) t.join();
  }
  Pool(const Pool&) = delete;
  Pool& operator=(const Pool&) = delete;

  int threads() const { return static_cast<int>(workers_.size()) + 1; }

  void run(int count, const std::function<void(int)>& fn) {
    std::unique_lock submit(submit_, std::try_to_lock);
    if (!submit || tl_in_loop || workers_.empty() || count <= 1) {
      for (int i = 0; i < count; ++i) fn(i);
      return;
    }
    {
      std::lock_guard lock(mutex_);
      fn_ = &fn;
      count_ = count;
      next_.store(0);
      failed_.store(false);
      error_ = nullptr;
      busy_ = static_cast<int>(workers_.size());
      ++generation_;
    }
    wake_.notify_all();
    tl_in_loop = true;
    work();
    tl_in_loop = false;
    std::unique_lock lock(mutex_);
    done_.wait(lock, [this] { return busy_ == 0; });
    fn_ = nullptr;
    if (error_) std::rethrow_exception(std::exchange(error_, nullptr));
  }

 private:
  void work() {
    for (;;) {
      const int i = next_.fetch_add(1);
      if (i >= count_) return;
      if (failed_.load()) continue;
      try {
        (*fn_)(i);
      } catch (...) {
        std::lock_guard lock(mutex_);
        if (!error_) error_ = std::current_exception();
        failed_.store(true);
      }
    }
  }

  void worker() {
    std::uint64_t seen = 0;
    std::unique_lock lock(mutex_);
    for (;;) {
      wake_.wait(lock, [&] { return stop_ || generation_ != seen; });
      if (stop_) return;
      seen = generation_;
      lock.unlock();
      tl_in_loop = true;
      work();
      tl_in_loop = false;
      lock.lock();
      if (--busy_ == 0) done_.notify_all();
    }
  }

  std::vector<std::thread> workers_;
  std::mutex submit_;  // one loop at a time
  std::mutex mutex_;   // guards everything below but the atomics
  std::condition_variable wake_, done_;
  bool stop_ = false;
  std::uint64_t generation_ = 0;
  const std::function<void(int)>* fn_ = nullptr;
  int count_ = 0;
  int busy_ = 0;
  std::atomic<int> next_{0};
  std::atomic<bool> failed_{false};
  std::exception_ptr error_;
};

std::mutex g_pool_mutex;
std::shared_ptr<Pool>& pool_slot() {
  static std::shared_ptr<Pool> pool;
  return pool;
}

std::shared_ptr<Pool> pool() {
  std::lock_guard lock(g_pool_mutex);
  auto& p = pool_slot();
  if (!p) p = std::make_shared<Pool>(default_threads());
  return p;
}

}  // namespace

void parallel_for(int count, const std::function<void(int)>& fn) {
  if (count <= 0) return;
  pool()->run(count, fn);
}

int thread_count() { return pool()->threads(); }

void set_thread_count(int n) {
  auto fresh = std::make_shared<Pool>(n > 0 ? n : default_threads());
  std::shared_ptr<Pool> old;
  {
    std::lock_guard lock(g_pool_mutex);
    old = std::exchange(pool_slot(), fresh);
  }
  // `old` joins its threads here, once no loop holds it any longer.
}

}  // namespace attn
